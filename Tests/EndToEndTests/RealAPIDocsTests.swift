import Foundation
import Testing

/// The docs' walkthroughs, run against a real API server as they are written, so that they cannot
/// drift from what works. What needs a kubelet (port-forward) is stood in for; everything else runs.
@Suite("Real API server: the docs, run", RealAPIServer.tier, .serialized, .timeLimit(.minutes(10)))
struct RealAPIDocsTests {
    @Test("per namespace (docs/clients.md): the documented config file and Role; a ServiceAccount the Role is bound to 200, a pprof-reader without it 403")
    func perNamespace() async throws {
        let api = try await RealAPIServer.shared()
        let namespace = "example-system"
        try await RealAPITokenTests.prepare(api, namespace: namespace, readers: [])
        try await api.createServiceAccounts(["ns-reader"], in: namespace)
        try await using(try TestWorkspace()) { workspace in
            let results = try await DocumentedBlock.run(
                named: "per-namespace-role", in: "docs/clients.md", environment: ["KUBECONFIG": api.adminKubeconfig],
                directory: workspace.directory)
            expectAsDocumented(results)
            try await api.kubectl([
                "-n", namespace, "create", "rolebinding", "pprof-reader-ns-reader", "--role=pprof-reader",
                "--serviceaccount=\(namespace):ns-reader",
            ])
            let config = try workspace.write(try DocumentedBlock.text(named: "per-namespace-config", in: "docs/clients.md"), to: "config.yaml")
            let nsReader = try await api.token(serviceAccount: "ns-reader", namespace: namespace)
            let reader = try api.readerToken()
            try await RealAPIProxy.run(
                api: api, serviceAccount: "proxy", namespace: namespace,
                arguments: { upstream, _ in
                    ["--secure-listen-address=127.0.0.1:0", "--upstream=\(upstream.upstreamURL)", "--config-file=\(config)"]
                },
                secrets: [nsReader, reader]
            ) { proxy in
                let statuses = [try await proxy.status(token: nsReader), try await proxy.status(token: reader)]
                #expect(statuses == [200, 403], "the Role's ServiceAccount, then a pprof-reader of every non-resource URL")
            }
        }
    }
}
