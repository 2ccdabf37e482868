/// A pod to fetch from: its name, the proxy's port on it, and the name its certificate carries.
package struct ProfiledPod: Sendable, Equatable {
    package var name: String
    package var port: Int
    /// The DNS name of the Service in front of this port (`NAME.NAMESPACE.svc`), if one was found.
    package var serviceName: String?
}

/// Turns TARGET or `-l` into the pods to fetch from, through the API as the caller.
package enum PodResolver {
    /// The port deploy/ names on the proxy's container.
    package static let portName = "pprof-https"
    /// The proxy's port when the pod names none.
    package static let defaultPort = 8443

    /// The first Running, Ready pod by name, or every one with `all`.
    package static func resolve(
        _ destination: PluginOptions.Destination, all: Bool, port: String?, namespace: String, cluster: ClusterClient
    ) async throws(PluginFailure) -> [ProfiledPod] {
        let candidates: [Pod]
        let described: String
        switch destination {
        case .target(.pod(let name)):
            candidates = [try await cluster.pod(name, namespace: namespace)]
            described = "pod/\(name)"
        case .target(.deployment(let name)):
            let deployment = try await cluster.deployment(name, namespace: namespace)
            candidates = try await cluster.pods(selector: deployment.labelSelector, namespace: namespace)
            described = "deploy/\(name)"
        case .selector(let selector):
            candidates = try await cluster.pods(selector: selector, namespace: namespace)
            described = "-l \(selector)"
        case .url:
            return []
        }
        let chosen = try choose(from: candidates, all: all, described: described, namespace: namespace)
        let services = await cluster.services(namespace: namespace) ?? []
        var pods: [ProfiledPod] = []
        for pod in chosen {
            let (number, name) = try proxyPort(of: pod, option: port)
            let service = services.sorted { $0.metadata.name < $1.metadata.name }.first { $0.serves(pod, port: number, portName: name) }
            pods.append(ProfiledPod(
                name: pod.metadata.name, port: number, serviceName: service.map { "\($0.metadata.name).\(namespace).svc" }))
        }
        return pods
    }

    /// The Running, Ready ones sorted by name: the first, or all; none is an error listing what there is.
    package static func choose(from pods: [Pod], all: Bool, described: String, namespace: String) throws(PluginFailure) -> [Pod] {
        let ready = pods.filter(\.isRunningAndReady).sorted { $0.metadata.name < $1.metadata.name }
        guard let first = ready.first else {
            if pods.isEmpty {
                throw .noPod("no pod matches \(described) in namespace \(namespace)")
            }
            let states = pods.sorted { $0.metadata.name < $1.metadata.name }.map { "\($0.metadata.name) \($0.stateDescription)" }
            throw .noPod("no Running, Ready pod for \(described) in namespace \(namespace) (\(states.joined(separator: ", ")))")
        }
        return all ? ready : [first]
    }

    /// The proxy's port on `pod`: `--port` (a number, or a name it declares), else the port named
    /// pprof-https, else 8443 (which a pod that declares ports must declare).
    package static func proxyPort(of pod: Pod, option: String?) throws(PluginFailure) -> (number: Int, name: String?) {
        let declared = pod.ports
        let listing = declared.map { port in port.name.map { "\($0) \(port.containerPort)" } ?? "\(port.containerPort)" }
        let inUse = "its container ports: " + (listing.isEmpty ? "none declared" : listing.joined(separator: ", "))
        if let option {
            if let number = Int(option), number > 0, number < 65536 {
                return (number, declared.first { $0.containerPort == number }?.name)
            }
            guard let port = declared.first(where: { $0.name == option }) else {
                throw .noSuchPort("pod \(pod.metadata.name) has no container port named \(option) (\(inUse))")
            }
            return (port.containerPort, option)
        }
        if let named = declared.first(where: { $0.name == portName }) {
            return (named.containerPort, portName)
        }
        if declared.isEmpty || declared.contains(where: { $0.containerPort == defaultPort }) {
            return (defaultPort, declared.first { $0.containerPort == defaultPort }?.name)
        }
        throw .noSuchPort(
            "pod \(pod.metadata.name) has no container port named \(portName) or numbered \(defaultPort) (\(inUse)); pass --port")
    }
}
