import Foundation
import Yams

/// The objects `kubectl kustomize` renders from a folder of deploy/, read with Yams.
struct RenderedManifests {
    let objects: [Node]

    /// kubectl from PATH, or nil when it is not installed.
    static let kubectl: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "")
        .split(separator: ":")
        .map { "\($0)/kubectl" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Renders `folder` (absolute, or relative to deploy/).
    static func render(_ folder: String) async throws -> RenderedManifests {
        guard let kubectl else { throw EndToEndError("kubectl is not installed") }
        let path = folder.hasPrefix("/") ? folder : PackagePaths.root.appendingPathComponent("deploy/\(folder)").path
        let result = try await CompletedProcess.run(kubectl, arguments: ["kustomize", path], timeout: .seconds(60))
        guard result.exitStatus == 0 else {
            throw EndToEndError("kubectl kustomize \(path) exited \(result.exitStatus):\n\(result.stderr.joined(separator: "\n"))")
        }
        let objects = try Yams.compose_all(yaml: result.stdout.joined(separator: "\n")).compactMap { $0 }
        return RenderedManifests(objects: objects)
    }

    func all(kind: String) -> [Node] {
        objects.filter { $0["kind"]?.string == kind }
    }

    func one(kind: String, name: String) throws -> Node {
        let matches = all(kind: kind).filter { $0["metadata"]?["name"]?.string == name }
        guard matches.count == 1 else { throw EndToEndError("\(matches.count) \(kind) named \(name) in the render") }
        return matches[0]
    }

    /// The sample Deployment: the manager and the proxy sidecar.
    func deployment() throws -> Node { try one(kind: "Deployment", name: "controller-manager") }

    /// The pod template's spec of the sample Deployment.
    func podSpec() throws -> Node {
        guard let spec = try deployment()["spec"]?["template"]?["spec"] else {
            throw EndToEndError("the Deployment has no pod template spec")
        }
        return spec
    }

    func container(named name: String) throws -> Node {
        guard let container = try podSpec()["containers"]?.array().first(where: { $0["name"]?.string == name }) else {
            throw EndToEndError("no container named \(name)")
        }
        return container
    }

    /// The proxy container's arguments as flag name → value; every argument must be `--name=value`,
    /// each flag given once.
    func proxyFlags() throws -> [String: String] {
        var flags: [String: String] = [:]
        for argument in try container(named: "pprof-rbac-proxy")["args"]?.array(of: String.self) ?? [] {
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else {
                throw EndToEndError("proxy argument \(argument) is not --name=value")
            }
            let name = String(argument[argument.index(argument.startIndex, offsetBy: 2)..<equals])
            guard flags[name] == nil else { throw EndToEndError("--\(name) is given twice") }
            flags[name] = String(argument[argument.index(after: equals)...])
        }
        return flags
    }

    /// The volume mounted in `container` at the folder holding `file`.
    func volume(holding file: String, in container: Node) throws -> Node {
        let folder = (file as NSString).deletingLastPathComponent
        guard let mount = container["volumeMounts"]?.array().first(where: { $0["mountPath"]?.string == folder }),
            let volume = try podSpec()["volumes"]?.array().first(where: { $0["name"] == mount["name"] })
        else { throw EndToEndError("nothing is mounted at \(folder)") }
        return volume
    }

    /// The containerPort of `container`'s port named `name`.
    func containerPort(named name: String, in container: Node) -> Int? {
        container["ports"]?.array().first { $0["name"]?.string == name }?["containerPort"]?.int
    }

    /// The Service's DNS names inside the cluster: name, name.namespace, name.namespace.svc, and the
    /// cluster.local form.
    func serviceNames() throws -> [String] {
        let service = try one(kind: "Service", name: "controller-manager-pprof")
        guard let name = service["metadata"]?["name"]?.string, let namespace = service["metadata"]?["namespace"]?.string else {
            throw EndToEndError("the Service has no name or namespace")
        }
        return [name, "\(name).\(namespace)", "\(name).\(namespace).svc", "\(name).\(namespace).svc.cluster.local"]
    }
}

/// Where a test runs the rendered sidecar: what only a pod has, replaced by this machine's.
struct LocalSidecar: Sendable {
    let upstream: String
    let certificate: String
    let privateKey: String
    /// Replaces the rendered `--client-ca-file` (the mounted ConfigMap), where there is one.
    var clientCA: String? = nil
    var endpointsPort: Int
}

extension RenderedManifests {
    /// The rendered sidecar's arguments with what only a pod has (its ports, the mounted Secret
    /// and ConfigMap, the upstream on its loopback) replaced by `local`; every other flag is kept
    /// as it is. The listeners are on loopback; the metrics listener's port is in its log line.
    func proxyArguments(_ local: LocalSidecar) throws -> [String] {
        let rendered = try proxyFlags()
        var replaced = [
            "secure-listen-address": "127.0.0.1:0", "upstream": local.upstream,
            "tls-cert-file": local.certificate, "tls-private-key-file": local.privateKey,
            "proxy-endpoints-port": String(local.endpointsPort),
        ]
        if rendered["metrics-bind-address"] != nil {
            replaced["metrics-bind-address"] = "127.0.0.1:0"
        }
        if rendered["client-ca-file"] != nil, let clientCA = local.clientCA {
            replaced["client-ca-file"] = clientCA
        }
        return rendered.merging(replaced) { _, replacement in replacement }.map { "--\($0.key)=\($0.value)" }
    }
}
