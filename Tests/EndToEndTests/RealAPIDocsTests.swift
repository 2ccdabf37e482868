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
                named: ["per-namespace-role"], in: "docs/clients.md", environment: ["KUBECONFIG": api.adminKubeconfig],
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
                arguments: RealAPIProxy.loopback(["--config-file=\(config)"]),
                secrets: [nsReader, reader]
            ) { proxy in
                let statuses = [try await proxy.status(token: nsReader), try await proxy.status(token: reader)]
                #expect(statuses == [200, 403], "the Role's ServiceAccount, then a pprof-reader of every non-resource URL")
            }
        }
    }

    @Test("docs/clients.md: bind a person, make a debugging ServiceAccount and its token, then the curl calls through the proxy (the port-forward stood in for)")
    func clientsWalkthrough() async throws {
        let api = try await RealAPIServer.shared()
        let namespace = "example-system"
        try await api.applyPprofReaderRole()
        try await RealAPITokenTests.prepare(api, namespace: namespace, readers: [])
        try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: namespace) { proxy in
            let workspace = proxy.workspace
            // The proxy's self-signed certificate stands in for the serving one: curl trusts it as ca.crt.
            let certificate = try await Self.servedCertificate(port: proxy.proxy.port)
            try workspace.write(certificate, to: "ca.crt")
            let results = try await DocumentedBlock.run(
                named: ["bind-a-person", "debugger-token", "curl"], in: "docs/clients.md",
                prelude: Self.portForward(to: proxy.proxy.port),
                standIns: ["kubectl -n example-system port-forward"],
                environment: ["KUBECONFIG": api.adminKubeconfig], directory: workspace.directory)
            expectAsDocumented(results)
            for (file, gzip) in [("cpu.pb.gz", true), ("heap.pb.gz", true), ("trace.out", false)] {
                let data = try Data(contentsOf: workspace.directory.appendingPathComponent(file))
                #expect(data.count > 100 && (!gzip || data.starts(with: [0x1f, 0x8b])), "\(file): \(data.count) bytes")
            }
        }
    }

    @Test("docs/deployment.md on a fresh cluster: the serving certificate from certs/, 'Check it' (a token without the binding 403), cert-manager's overlay and mTLS clients (alice's certificate 200); rollout and port-forward stood in for")
    func deploymentWalkthrough() async throws {
        try await using(try await RealAPIServer.start()) { api in
            try await using(try TestWorkspace()) { checkout in
                // A folder shaped like a checkout: certs/ (its scripts, writing certs/out here) and deploy/.
                try FileManager.default.copyItem(at: PackagePaths.root.appendingPathComponent("certs"), to: checkout.directory.appendingPathComponent("certs"))
                try? FileManager.default.removeItem(at: checkout.directory.appendingPathComponent("certs/out"))
                try FileManager.default.createSymbolicLink(
                    atPath: checkout.path("deploy"), withDestinationPath: PackagePaths.root.appendingPathComponent("deploy").path)
                let admin = ["KUBECONFIG": api.adminKubeconfig]
                // The pod: the rendered flags with the Secret's (and ConfigMap's) files as the docs make them.
                func sidecar(_ render: RenderedManifests, clientCA: String? = nil) -> (PprofServer, TestWorkspace) async throws -> [String] {
                    { upstream, _ in
                        try render.proxyArguments(LocalSidecar(
                            upstream: upstream.upstreamURL, certificate: checkout.path("certs/out/tls.crt"),
                            privateKey: checkout.path("certs/out/tls.key"), clientCA: clientCA, endpointsPort: try FreePort.find()))
                    }
                }
                expectAsDocumented(try await DocumentedBlock.run(
                    named: ["serving-certificate"], in: "docs/deployment.md", environment: admin, directory: checkout.directory))
                // No controller manager runs here to make each namespace's `default` ServiceAccount.
                try await api.createServiceAccounts(["default"], in: "example-system")
                let render = try await RenderedManifests.render("base")
                try await RealAPIProxy.run(
                    api: api, serviceAccount: "controller-manager", namespace: "example-system",
                    arguments: sidecar(render)
                ) { proxy in
                    let results = try await DocumentedBlock.run(
                        named: ["check-it"], in: "docs/deployment.md", prelude: Self.portForward(to: proxy.proxy.port),
                        standIns: ["kubectl -n example-system rollout status", "kubectl -n example-system port-forward"],
                        environment: admin, directory: checkout.directory)
                    expectAsDocumented(results)
                    #expect(results.last?.documented == "403")
                }

                // §4 with cert-manager (its CRDs only: no controller issues anything here), then §5.
                try await RealAPIDeployTests.prepare(api)
                expectAsDocumented(try await DocumentedBlock.run(
                    named: ["cert-manager", "mtls-clients"], in: "docs/deployment.md", environment: admin, directory: checkout.directory))
                // docs/clients.md, Parca's step 2 (Parca itself, its namespace, installed).
                expectAsDocumented(try await DocumentedBlock.run(
                    named: ["parca-ca"], in: "docs/clients.md", environment: admin, directory: checkout.directory))
                _ = try await api.kubectl(["-n", "example-system", "get", "certificate.cert-manager.io/pprof-rbac-proxy-serving", "configmap/pprof-rbac-proxy-client-ca"])
                let mtls = try await RenderedManifests.render("overlays/mtls")
                try await RealAPIProxy.run(
                    api: api, serviceAccount: "controller-manager", namespace: "example-system",
                    arguments: sidecar(mtls, clientCA: checkout.path("certs/out/ca.crt"))
                ) { proxy in
                    // alice's certificate says O=pprof-readers, which deploy/base binds to pprof-reader.
                    let alice = IssuedCertificate(
                        certificate: checkout.path("certs/out/client-alice.crt"), privateKey: checkout.path("certs/out/client-alice.key"))
                    let withCertificate = try await Curl.perform(CurlRequest(
                        url: proxy.proxy.baseURL + "/debug/pprof/heap", caCertificate: checkout.path("certs/out/ca.crt"), clientCertificate: alice,
                        resolve: []))
                    #expect(withCertificate.status == 200, "\(withCertificate.summary)")
                    let without = try await Curl.perform(CurlRequest(url: proxy.proxy.baseURL + "/debug/pprof/heap", caCertificate: checkout.path("certs/out/ca.crt")))
                    #expect(without.status == 401)
                }
            }
        }
    }

    /// A shell function that stands in for `kubectl port-forward … 8443`: curl's connections to
    /// port 8443 of any host go to the proxy on `port`.
    @Test("docs/clients.md: kubectl pprof's commands as written, with deploy/base applied and a pod of it marked Ready (the port-forward stood in for)")
    func pluginWalkthrough() async throws {
        let api = try await RealAPIServer.shared()
        let namespace = "example-system"
        try await api.apply(kustomization: PackagePaths.root.appendingPathComponent("deploy/base").path)
        try await RealAPITokenTests.prepare(api, namespace: namespace, readers: [])
        try await api.createServiceAccounts(["default"], in: namespace)
        let pod = "controller-manager-5d9c7b-abcde"
        try await PluginCluster(api: api, namespace: namespace).createPod(pod, labels: ["app.kubernetes.io/name": "controller-manager"])
        try await using(try TestWorkspace()) { workspace in
            let plugin = try KubectlPprofPlugin(workspace: workspace)
            let (ca, tls) = try await RealAPIPluginTests.servingCertificate(in: workspace, namespace: namespace)
            try FileManager.default.copyItem(atPath: ca, toPath: workspace.path("ca.crt"))
            try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: namespace, arguments: RealAPIProxy.loopback(tls)) { proxy in
                try plugin.forward(pod: pod, to: proxy.proxy.port)
                // `kubectl pprof` as a reader types it: kubectl finds kubectl-pprof on PATH.
                var environment = plugin.environment(["KUBECONFIG": api.adminKubeconfig])
                environment["PATH"] = (environment["PATH"] ?? "") + ":" + URL(fileURLWithPath: try PackagePaths.pluginBinary()).deletingLastPathComponent().path
                let results = try await DocumentedBlock.run(
                    named: ["kubectl-pprof"], in: "docs/clients.md", environment: environment, directory: workspace.directory)
                expectAsDocumented(results)
                for file in ["cpu.pb.gz", "heap.pb.gz"] {
                    let data = try Data(contentsOf: workspace.directory.appendingPathComponent(file))
                    #expect(data.starts(with: [0x1f, 0x8b]), "\(file) is a gzipped profile")
                }
                let stacks = try #require(results.last?.output.split(separator: "\n").last.map(String.init), "\(results)")
                #expect(stacks.hasPrefix("\(pod)-goroutine-") && stacks.hasSuffix(".txt"), "\(stacks)")
                let text = try String(contentsOf: workspace.directory.appendingPathComponent(stacks), encoding: .utf8)
                #expect(text.contains("goroutine ") && text.contains("[running]"), "goroutine?debug=2 is every stack as text")
                #expect(plugin.portForwards().count == 3)
            }
        }
    }

    static func portForward(to port: Int) -> String {
        "curl() { command curl --connect-to \"::127.0.0.1:\(port)\" \"$@\"; }"
    }

    /// The PEM certificate the proxy on `port` serves.
    static func servedCertificate(port: Int) async throws -> String {
        let result = try await CompletedProcess.run(
            "bash", arguments: ["-c", "openssl s_client -connect 127.0.0.1:\(port) -showcerts </dev/null 2>/dev/null | openssl x509"],
            timeout: .seconds(30))
        return result.stdout.joined(separator: "\n") + "\n"
    }
}
