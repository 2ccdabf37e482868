import Foundation

/// What `kubectl pprof` looks up in a namespace of the real API server, made as objects: a
/// Deployment and its Service as deploy/ names them, pods marked Running and Ready through the
/// status subresource (no kubelet runs them), and people who may see them.
struct PluginCluster: Sendable {
    let api: RealAPIServer
    let namespace: String

    /// The Deployment's name, as in deploy/.
    static let deployment = "controller-manager"

    /// The namespace with its `default` ServiceAccount (pods need one), a proxy ServiceAccount
    /// allowed to review (system:auth-delegator), deploy/'s pprof-reader ClusterRole, the
    /// Deployment `controller-manager` and its Service `controller-manager-pprof` (port 8443 to
    /// pprof-https), and a Role `pod-viewer` (get/list pods and services, get deployments).
    static func prepare(_ api: RealAPIServer, namespace: String) async throws -> PluginCluster {
        try await api.createServiceAccounts(["default", "proxy"], in: namespace)
        try await api.applyPprofReaderRole()
        try await api.bind(serviceAccount: "proxy", namespace: namespace, to: "system:auth-delegator", as: "\(namespace)-proxy-auth-delegator")
        try await api.apply("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: \(deployment), namespace: \(namespace)}
            spec:
              selector: {matchLabels: {app: \(deployment)}}
              template:
                metadata: {labels: {app: \(deployment)}}
                spec:
                  containers: [{name: manager, image: controller}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: \(deployment)-pprof, namespace: \(namespace)}
            spec:
              selector: {app: \(deployment)}
              ports: [{name: https, port: 8443, targetPort: pprof-https}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: pod-viewer, namespace: \(namespace)}
            rules:
              - {apiGroups: [""], resources: [pods, services], verbs: [get, list]}
              - {apiGroups: [apps], resources: [deployments], verbs: [get]}
            """)
        return PluginCluster(api: api, namespace: namespace)
    }

    /// Creates pod `name` with `labels` and the proxy's port `pprof-https` 8443 (or `ports`), and
    /// with `ready` marks it Running with condition Ready (else it stays Pending).
    func createPod(_ name: String, labels: [String: String] = ["app": deployment], ready: Bool = true, ports: String = "[{name: pprof-https, containerPort: 8443}]") async throws {
        let labelText = labels.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        try await api.apply("""
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), namespace: \(namespace), labels: {\(labelText)}}
            spec:
              automountServiceAccountToken: false
              containers:
                - {name: manager, image: controller}
                - {name: pprof-rbac-proxy, image: pprof-rbac-proxy, ports: \(ports)}
            """)
        guard ready else { return }
        let response = try await Curl.perform(CurlRequest(
            url: "\(api.url)/api/v1/namespaces/\(namespace)/pods/\(name)/status", bearerToken: try api.adminToken(), method: "PATCH",
            headers: ["Content-Type: application/merge-patch+json"],
            body: #"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
            caCertificate: api.certificateAuthority))
        guard response.status == 200 else { throw EndToEndError("marking pod \(name) Ready: \(response.summary)") }
    }

    /// A ServiceAccount for a person, who may see the pods (`pod-viewer`) and, with `reader`, read pprof.
    func createPerson(_ name: String, reader: Bool) async throws {
        try await api.createServiceAccounts([name], in: namespace)
        try await api.apply(roleBinding(name: "\(name)-pod-viewer", subject: "{kind: ServiceAccount, name: \(name), namespace: \(namespace)}"))
        if reader {
            try await api.bind(serviceAccount: name, namespace: namespace, to: "pprof-reader", as: "\(namespace)-\(name)-pprof-reader")
        }
    }

    /// Lets user `name` (a client certificate's CN) see the pods and read pprof.
    func allowUser(_ name: String) async throws {
        try await api.apply(roleBinding(name: "\(name)-pod-viewer", subject: "{kind: User, name: \(name), apiGroup: rbac.authorization.k8s.io}"))
        try await api.kubectl(["create", "clusterrolebinding", "\(namespace)-\(name)-pprof-reader", "--clusterrole=pprof-reader", "--user=\(name)"])
    }

    private func roleBinding(name: String, subject: String) -> String {
        """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: \(name), namespace: \(namespace)}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-viewer}
        subjects: [\(subject)]
        """
    }

    /// A kubeconfig for this API server whose user is `user` (YAML under `user:`), its context's
    /// namespace this one.
    func kubeconfig(user: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: real
          cluster:
            server: \(api.url)
            certificate-authority: \(api.certificateAuthority)
        users:
        - name: person
          user:
        \(user.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        contexts:
        - name: real
          context: {cluster: real, user: person, namespace: \(namespace)}
        current-context: real
        """
    }
}

extension RealAPIServer {
    /// The static token of `admin`, in system:masters.
    func adminToken() throws -> String {
        try String(contentsOf: directory.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A client certificate for `user` in `groups`, signed by the API server's client CA.
    func issueClientCertificate(user: String, groups: [String], in workspace: TestWorkspace) async throws -> IssuedCertificate {
        let authority = workspace.path("api-client-ca")
        try FileManager.default.createDirectory(atPath: authority, withIntermediateDirectories: true)
        for file in ["ca.crt", "ca.key"] {
            try FileManager.default.copyItem(atPath: directory.appendingPathComponent(file).path, toPath: "\(authority)/\(file)")
        }
        return try await TestCertificateAuthority(directory: authority).issueClientCertificate(user: user, groups: groups, file: "client-\(user)")
    }
}
