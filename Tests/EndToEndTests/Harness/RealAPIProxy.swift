import Foundation
import Testing

/// The proxy run on this machine against a real API server, with the credentials of a
/// ServiceAccount (a TokenRequest token in a token file, as a pod's projected token), in front of
/// a pprof-server of its own.
struct RealAPIProxy: Sendable {
    let proxy: ProxyProcess
    let upstream: PprofServer
    let workspace: TestWorkspace
    /// The proxy's token file, which a test may replace as the kubelet does.
    let tokenFile: String

    /// Starts it as ServiceAccount `namespace/name` (bound to system:auth-delegator by the caller),
    /// with `token` or else a new token of that account in its token file, with `--kubeconfig`
    /// and the `arguments` made for its upstream and workspace (by default a
    /// loopback listener and that upstream), runs `body`, and checks that no token in `secrets`
    /// (nor the proxy's own) appeared in the proxy's output.
    static func run(
        api: RealAPIServer, serviceAccount name: String, namespace: String, token: String? = nil,
        arguments: (PprofServer, TestWorkspace) async throws -> [String] = loopback(),
        secrets: [String] = [], _ body: (RealAPIProxy) async throws -> Void
    ) async throws {
        var proxyToken = token ?? ""
        if token == nil {
            proxyToken = try await api.token(serviceAccount: name, namespace: namespace)
        }
        try await using(try TestWorkspace()) { workspace in
            try await using(try await PprofServer.start()) { upstream in
                let tokenFile = try workspace.write(proxyToken, to: "proxy.token")
                let kubeconfig = try workspace.write(api.kubeconfig(tokenFile: tokenFile), to: "kubeconfig")
                let all = try await arguments(upstream, workspace) + ["--kubeconfig=\(kubeconfig)"]
                try await using(try await ProxyProcess.start(arguments: all)) { proxy in
                    try await body(RealAPIProxy(proxy: proxy, upstream: upstream, workspace: workspace, tokenFile: tokenFile))
                    let output = proxy.process.allOutput
                    let leaked = ([proxyToken] + secrets).filter { !$0.isEmpty && output.contains($0) }
                    #expect(leaked.isEmpty, "the proxy printed \(leaked.count) token(s)")
                }
            }
        }
    }

    /// Arguments for a proxy on a loopback port in front of its upstream, and then `extra`.
    static func loopback(_ extra: [String] = []) -> (PprofServer, TestWorkspace) async throws -> [String] {
        { upstream, _ in ["--secure-listen-address=127.0.0.1:0", "--upstream=\(upstream.upstreamURL)"] + extra }
    }

    /// The status of a GET of `path` through the proxy with `token`.
    func status(_ path: String = "/debug/pprof/heap", token: String?) async throws -> Int {
        try await Curl.perform(CurlRequest(url: proxy.baseURL + path, bearerToken: token)).status
    }

    /// Replaces the token file with `token` by a rename, as the kubelet swaps a projected token.
    func replaceToken(with token: String) throws {
        let next = try workspace.write(token, to: "proxy.token.next")
        guard rename(next, tokenFile) == 0 else { throw EndToEndError("rename \(next) \(tokenFile): errno \(errno)") }
    }
}

extension RealAPIServer {
    /// Creates (or keeps) namespace `namespace` and ServiceAccounts `names` in it.
    func createServiceAccounts(_ names: [String], in namespace: String) async throws {
        var manifests = ["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)\n"]
        for name in names {
            manifests.append("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: \(name)\n  namespace: \(namespace)\n")
        }
        try await apply(manifests.joined(separator: "---\n"))
    }

    /// Binds ServiceAccount `namespace/name` to ClusterRole `role` (binding name `binding`).
    func bind(serviceAccount name: String, namespace: String, to role: String, as binding: String) async throws {
        try await apply("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: \(binding)
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: \(role)
            subjects:
              - kind: ServiceAccount
                name: \(name)
                namespace: \(namespace)
            """)
    }

    /// Applies deploy/'s ClusterRole pprof-reader alone.
    func applyPprofReaderRole() async throws {
        try await apply(file: PackagePaths.root.appendingPathComponent("deploy/base/pprof-reader-role.yaml").path)
    }
}
