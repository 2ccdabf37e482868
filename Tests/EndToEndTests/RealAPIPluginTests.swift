import Foundation
import Testing
import TestProcesses

/// `kubectl pprof` against the real API server: the caller's own kubeconfig identity (an exec
/// plugin's TokenRequest token, a client certificate, a ServiceAccount token asked for), pods
/// found through the API, the proxy run on this machine, and the port-forward stood in for (no
/// kubelet: `KubectlPprofPlugin`).
@Suite("Real API server: kubectl pprof", RealAPIServer.tier, .timeLimit(.minutes(10)))
struct RealAPIPluginTests {
    /// A serving certificate for the Service `controller-manager-pprof` in `namespace` (and
    /// localhost, 127.0.0.1), and the proxy arguments that serve it.
    static func servingCertificate(in workspace: TestWorkspace, namespace: String) async throws -> (ca: String, arguments: [String]) {
        let authority = try await TestCertificateAuthority.create(in: workspace, name: "proxy-ca")
        let serving = try await authority.issueServingCertificate(file: "tls", service: "\(PluginCluster.deployment)-pprof", namespace: namespace)
        return (authority.certificate, ["--tls-cert-file=\(serving.certificate)", "--tls-private-key-file=\(serving.privateKey)"])
    }

    /// What a test of a person with a token starts from: the namespace prepared, ServiceAccount
    /// `person` (reading pprof when `reader`), its token in a kubeconfig, a serving certificate.
    struct TokenUser {
        let api: RealAPIServer
        let cluster: PluginCluster
        let token: String
        let workspace: TestWorkspace
        let plugin: KubectlPprofPlugin
        let kubeconfig: String
        let ca: String
        /// The proxy arguments that serve the certificate.
        let tls: [String]
    }

    /// Runs `body` with a `TokenUser` in `namespace`, after `objects` made the pods.
    static func withTokenUser(
        namespace: String, person: String, reader: Bool, objects: (PluginCluster) async throws -> Void,
        _ body: (TokenUser) async throws -> Void
    ) async throws {
        let api = try await RealAPIServer.shared()
        let cluster = try await PluginCluster.prepare(api, namespace: namespace)
        try await objects(cluster)
        try await cluster.createPerson(person, reader: reader)
        let token = try await api.token(serviceAccount: person, namespace: namespace)
        try await using(try TestWorkspace()) { workspace in
            let plugin = try KubectlPprofPlugin(workspace: workspace)
            let kubeconfig = try workspace.write(cluster.kubeconfig(user: "token: \(token)"), to: "kubeconfig")
            let (ca, tls) = try await servingCertificate(in: workspace, namespace: namespace)
            try await body(TokenUser(
                api: api, cluster: cluster, token: token, workspace: workspace, plugin: plugin, kubeconfig: kubeconfig, ca: ca, tls: tls))
        }
    }

    /// An exec credential plugin that hands out `tokenFile`'s token as ExecCredential `apiVersion`,
    /// counting its runs in `runs` and keeping what it was told in `info` (KUBERNETES_EXEC_INFO).
    static func execUser(in workspace: TestWorkspace, tokenFile: String, apiVersion: String, expiry: String? = nil) throws -> String {
        let expiration = expiry.map { #","expirationTimestamp":"\#($0)""# } ?? ""
        let script = try workspace.write("""
            #!/bin/sh
            echo run >> "$RUNS"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO"
            printf '{"apiVersion":"\(apiVersion)","kind":"ExecCredential","status":{"token":"%s"\(expiration)}}' "$(cat "$TOKEN_FILE")"
            """, to: "credential-plugin")
        guard chmod(script, 0o755) == 0 else { throw EndToEndError("chmod \(script)") }
        return """
            exec:
              apiVersion: \(apiVersion)
              command: ./credential-plugin
              args: [--cluster, real]
              env:
                - {name: RUNS, value: \(workspace.path("plugin-runs"))}
                - {name: INFO, value: \(workspace.path("plugin-info"))}
                - {name: TOKEN_FILE, value: \(tokenFile)}
              installHint: the test writes it
              interactiveMode: Never
            """
    }

    /// How many times the exec plugin ran.
    static func execRuns(_ workspace: TestWorkspace) -> Int {
        ((try? String(contentsOfFile: workspace.path("plugin-runs"), encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test("an exec plugin's TokenRequest token, deploy/: the first Running Ready pod, a port-forward, a 3 s CPU profile with progress lines, a profile go tool pprof reads")
    func execPluginDeployment() async throws {
        let api = try await RealAPIServer.shared()
        let cluster = try await PluginCluster.prepare(api, namespace: "plugin-exec")
        for (pod, ready) in [("controller-manager-b", true), ("controller-manager-a", true), ("controller-manager-0", false)] {
            try await cluster.createPod(pod, ready: ready)
        }
        try await cluster.createPerson("person", reader: true)
        let token = try await api.token(serviceAccount: "person", namespace: cluster.namespace)
        try await using(try TestWorkspace()) { workspace in
            let plugin = try KubectlPprofPlugin(workspace: workspace)
            let tokenFile = try workspace.write(token, to: "person.token")
            let kubeconfig = try workspace.write(
                cluster.kubeconfig(user: try Self.execUser(in: workspace, tokenFile: tokenFile, apiVersion: "client.authentication.k8s.io/v1")),
                to: "kubeconfig")
            let (ca, tls) = try await Self.servingCertificate(in: workspace, namespace: cluster.namespace)
            try await RealAPIProxy.run(
                api: api, serviceAccount: "proxy", namespace: cluster.namespace, arguments: RealAPIProxy.loopback(tls), secrets: [token]
            ) { proxy in
                try plugin.forward(pod: "controller-manager-a", to: proxy.proxy.port)
                let run = try await plugin.run(
                    ["cpu", "deploy/controller-manager", "--seconds", "3", "--cacert", ca], environment: ["KUBECONFIG": kubeconfig])
                #expect(run.exitStatus == 0, "\(run.output)")
                let file = try #require(run.stdout.first, "\(run.output)")
                #expect(file.hasPrefix("controller-manager-a-cpu-") && file.hasSuffix(".pb.gz") && file.count == "controller-manager-a-cpu-20261203T174455.pb.gz".count, "\(file)")
                let top = try await CompletedProcess.run(
                    "go", arguments: ["tool", "pprof", "-top", workspace.path(file)], timeout: .seconds(60))
                #expect(top.exitStatus == 0 && top.output.contains("Type: cpu"), "\(top.output)")
                // Off a terminal: a line when the capture starts, one every 2 s, then the saved file.
                #expect(run.stderr.first == "pod/controller-manager-a cpu: running 0s / 3s, 0 of 3 slices merged, 0 B", "\(run.stderr)")
                #expect(run.stderr.contains { $0.hasPrefix("pod/controller-manager-a cpu: running 2s / 3s, ") }, "\(run.stderr)")
                #expect(run.stderr.last?.hasPrefix("pod/controller-manager-a: saved cpu profile to \(file) (") == true, "\(run.stderr)")
                #expect(plugin.portForwards() == ["--namespace plugin-exec port-forward pod/controller-manager-a :8443"], "kubectl reads KUBECONFIG as the plugin did")
                #expect(Self.execRuns(workspace) == 1)
                let info = try String(contentsOfFile: workspace.path("plugin-info"), encoding: .utf8)
                #expect(info.contains(#""apiVersion":"client.authentication.k8s.io/v1""#) && info.contains(#""interactive":false"#), "\(info)")
                let captures = try await proxy.upstream.requests().filter { $0.path == "/debug/pprof/profile" }
                #expect(captures.map(\.rawQuery) == ["seconds=1", "seconds=1", "seconds=1"], "three one-second slices")
                #expect(!run.output.contains(token) && !plugin.portForwards().joined().contains(token), "the token is never printed nor passed as an argument")
            }
        }
    }

    @Test("-l SELECTOR --all: two pods behind two proxies fetched at once into files side by side; a v1beta1 exec credential is run once and cached")
    func allPods() async throws {
        let api = try await RealAPIServer.shared()
        let cluster = try await PluginCluster.prepare(api, namespace: "plugin-all")
        for pod in ["worker-1", "worker-2"] {
            try await cluster.createPod(pod, labels: ["app": "worker", "tier": "batch"])
        }
        try await cluster.createPod("other-1", labels: ["app": "other"])
        try await cluster.createPerson("person", reader: true)
        let token = try await api.token(serviceAccount: "person", namespace: cluster.namespace)
        try await using(try TestWorkspace()) { workspace in
            let plugin = try KubectlPprofPlugin(workspace: workspace)
            let tokenFile = try workspace.write(token, to: "person.token")
            let expiry = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
            let kubeconfig = try workspace.write(
                cluster.kubeconfig(user: try Self.execUser(
                    in: workspace, tokenFile: tokenFile, apiVersion: "client.authentication.k8s.io/v1beta1", expiry: expiry)),
                to: "kubeconfig")
            let (ca, tls) = try await Self.servingCertificate(in: workspace, namespace: cluster.namespace)
            try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: cluster.namespace, arguments: RealAPIProxy.loopback(tls)) { first in
                try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: cluster.namespace, arguments: RealAPIProxy.loopback(tls)) { second in
                    try plugin.forward(pod: "worker-1", to: first.proxy.port)
                    try plugin.forward(pod: "worker-2", to: second.proxy.port)
                    let run = try await plugin.run(
                        ["heap", "-l", "app=worker,tier=batch", "--all", "--cacert", ca, "--kubeconfig", kubeconfig, "-n", cluster.namespace])
                    #expect(run.exitStatus == 0, "\(run.output)")
                    #expect(run.stdout.count == 2 && run.stdout[0].hasPrefix("worker-1-heap-") && run.stdout[1].hasPrefix("worker-2-heap-"), "\(run.stdout)")
                    #expect(run.stdout.count == 2 && run.stdout[0].dropFirst("worker-1".count) == run.stdout[1].dropFirst("worker-2".count), "one timestamp for the run")
                    for file in run.stdout {
                        let data = try Data(contentsOf: URL(fileURLWithPath: workspace.path(file)))
                        #expect(data.starts(with: [0x1f, 0x8b]), "\(file) is a gzipped profile")
                    }
                    for proxy in [first, second] {
                        let heaps = try await proxy.upstream.requests().filter { $0.path == "/debug/pprof/heap" }
                        #expect(heaps.count == 1, "each proxy served its own pod once")
                    }
                    #expect(Self.execRuns(workspace) == 1, "the credential is cached until it expires")
                    #expect(Set(plugin.portForwards().map { $0.components(separatedBy: " ").dropLast().last ?? "" }) == ["pod/worker-1", "pod/worker-2"])
                }
            }
        }
    }

    @Test("a client-certificate user: presented to a proxy with --client-ca-file (200); a proxy without it answers 401 and the advice names the flag")
    func clientCertificate() async throws {
        let api = try await RealAPIServer.shared()
        let cluster = try await PluginCluster.prepare(api, namespace: "plugin-cert")
        try await cluster.createPod("controller-manager-a")
        try await cluster.allowUser("carol")
        try await using(try TestWorkspace()) { workspace in
            let plugin = try KubectlPprofPlugin(workspace: workspace)
            let certificate = try await api.issueClientCertificate(user: "carol", groups: ["pprof-people"], in: workspace)
            let kubeconfig = try workspace.write(
                cluster.kubeconfig(user: "client-certificate: \(certificate.certificate)\nclient-key: \(certificate.privateKey)"), to: "kubeconfig")
            let (ca, tls) = try await Self.servingCertificate(in: workspace, namespace: cluster.namespace)
            let arguments = ["heap", "pod/controller-manager-a", "--cacert", ca, "--kubeconfig", kubeconfig, "-o", "heap.pb.gz"]
            try await RealAPIProxy.run(
                api: api, serviceAccount: "proxy", namespace: cluster.namespace,
                arguments: RealAPIProxy.loopback(tls + ["--client-ca-file=\(api.certificateAuthority)"])
            ) { proxy in
                try plugin.forward(pod: "controller-manager-a", to: proxy.proxy.port)
                let run = try await plugin.run(arguments)
                #expect(run.exitStatus == 0, "\(run.output)")
                #expect(run.stdout == ["heap.pb.gz"])
                #expect(FileManager.default.fileExists(atPath: workspace.path("heap.pb.gz")))
            }
            try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: cluster.namespace, arguments: RealAPIProxy.loopback(tls)) { proxy in
                try plugin.forward(pod: "controller-manager-a", to: proxy.proxy.port)
                let run = try await plugin.run(arguments)
                #expect(run.exitStatus == 1, "\(run.output)")
                #expect(run.stderr.contains { $0.contains("refused your identity (401 Unauthorized)") }, "\(run.output)")
                #expect(run.stderr.contains { $0.contains("the client certificate CN=carol,O=pprof-people of kubeconfig user \"person\"") }, "\(run.output)")
                #expect(run.stderr.contains { $0.contains("--client-ca-file") }, "\(run.output)")
                #expect(try await proxy.upstream.requests().isEmpty)
            }
        }
    }

    @Test("403: the missing permission and the RBAC that grants it, which works as printed; 401 for a token of another audience, then --token-from-serviceaccount with --token-audience")
    func refusals() async throws {
        try await Self.withTokenUser(namespace: "plugin-refusals", person: "stranger", reader: false, objects: { try await $0.createPod("controller-manager-a") }) { user in
            let (api, cluster, token, workspace, plugin, kubeconfig, ca, tls) = (user.api, user.cluster, user.token, user.workspace, user.plugin, user.kubeconfig, user.ca, user.tls)
            let arguments = ["heap", "deploy/controller-manager", "--cacert", ca, "--kubeconfig", kubeconfig]
            try await RealAPIProxy.run(
                api: api, serviceAccount: "proxy", namespace: cluster.namespace, arguments: RealAPIProxy.loopback(tls), secrets: [token]
            ) { proxy in
                try plugin.forward(pod: "controller-manager-a", to: proxy.proxy.port)
                let refused = try await plugin.run(arguments)
                #expect(refused.exitStatus == 1, "\(refused.output)")
                let user = "system:serviceaccount:plugin-refusals:stranger"
                #expect(refused.stderr.first?.hasPrefix("error: the proxy at pod/controller-manager-a says you may not (403: Forbidden (user=\(user)") == true, "\(refused.output)")
                #expect(refused.stderr.contains("Missing: get on the non-resource URL /debug/pprof/heap for \(user)."), "\(refused.output)")
                #expect(refused.output.contains(#"- nonResourceURLs: ["/debug/pprof", "/debug/pprof/*"]"#), "the ClusterRole is printed")
                let grant = try #require(refused.stderr.first { $0.contains("kubectl create clusterrolebinding") }, "\(refused.output)")
                #expect(grant == "  kubectl create clusterrolebinding pprof-reader-system-serviceaccount-plugin-refusals-stranger --clusterrole=pprof-reader --serviceaccount=plugin-refusals:stranger")
                #expect(!refused.stdout.contains { $0.hasSuffix(".pb.gz") } && !FileManager.default.fileExists(atPath: workspace.path(refused.stdout.first ?? "-")))
                // The line as printed, run as admin, grants it.
                try await api.kubectl(Array(grant.trimmingCharacters(in: .whitespaces).split(separator: " ").dropFirst().map(String.init)))
                let granted = try await eventually("the binding to take effect", timeout: .seconds(30)) {
                    let run = try await plugin.run(arguments)
                    return run.exitStatus == 0 ? run : nil
                }
                #expect(granted.stdout.count == 1)
                #expect(!refused.output.contains(token) && !granted.output.contains(token))
            }
            try await RealAPIProxy.run(
                api: api, serviceAccount: "proxy", namespace: cluster.namespace,
                arguments: RealAPIProxy.loopback(tls + ["--auth-token-audiences=pprof-rbac-proxy"]), secrets: [token]
            ) { proxy in
                try plugin.forward(pod: "controller-manager-a", to: proxy.proxy.port)
                let unauthorized = try await plugin.run(arguments)
                #expect(unauthorized.exitStatus == 1, "\(unauthorized.output)")
                #expect(unauthorized.stderr.contains { $0.contains("refused your identity (401 Unauthorized)") }, "\(unauthorized.output)")
                #expect(unauthorized.stderr.contains("Sent: the bearer token of kubeconfig user \"person\"."), "\(unauthorized.output)")
                #expect(unauthorized.stderr.contains { $0.contains("a JWT for system:serviceaccount:plugin-refusals:stranger") }, "\(unauthorized.output)")
                #expect(unauthorized.stderr.contains { $0.contains("--token-audience") }, "\(unauthorized.output)")
                // Admin may create tokens: one of stranger's for the proxy's audience works.
                let admin = try await plugin.run(
                    ["heap", "pod/controller-manager-a", "--cacert", ca, "--kubeconfig", api.adminKubeconfig, "-n", cluster.namespace,
                     "--token-from-serviceaccount", "plugin-refusals/stranger", "--token-audience", "pprof-rbac-proxy", "-o", "asked.pb.gz"])
                #expect(admin.exitStatus == 0, "\(admin.output)")
                #expect(admin.stdout == ["asked.pb.gz"])
                let lines = proxy.proxy.process.lines(in: .stderr).joined()
                #expect(!lines.contains("asked.pb.gz"))
            }
        }
    }

    @Test("without CPU profile slices, while another capture runs, the line says the CPU profile is queued, then running; then it is saved")
    func queued() async throws {
        try await Self.withTokenUser(namespace: "plugin-queued", person: "person", reader: true, objects: { try await $0.createPod("controller-manager-a") }) { user in
            let (api, cluster, token, plugin, kubeconfig, ca, tls) = (user.api, user.cluster, user.token, user.plugin, user.kubeconfig, user.ca, user.tls)
            try await RealAPIProxy.run(
                api: api, serviceAccount: "proxy", namespace: cluster.namespace,
                arguments: RealAPIProxy.loopback(tls + ["--cpu-profile-slices=false", "--capture-queue-timeout=5m"]), secrets: [token]
            ) { proxy in
                try plugin.forward(pod: "controller-manager-a", to: proxy.proxy.port)
                let holder = Task {
                    try await Curl.perform(CurlRequest(
                        url: proxy.proxy.baseURL + "/debug/pprof/profile?seconds=60", bearerToken: token, maxTime: .seconds(90), caCertificate: ca))
                }
                _ = try await proxy.upstream.waitForRequest("the long profile", timeout: .seconds(10)) { $0.rawQuery == "seconds=60" }
                let fetch = try plugin.start(["cpu", "pod/controller-manager-a", "--seconds", "1", "--cacert", ca, "--kubeconfig", kubeconfig])
                try await using(fetch) { fetch in
                    let line = try await fetch.waitForLine(containing: "queued", in: .stderr, timeout: .seconds(30))
                    #expect(line.hasPrefix("pod/controller-manager-a cpu: queued behind another capture (position 1) 0s"), "\(line)")
                    holder.cancel()
                    let status = try await fetch.waitForExit(timeout: .seconds(60))
                    let stderr = fetch.lines(in: .stderr)
                    #expect(status == 0, "\(stderr)")
                    #expect(stderr.contains("pod/controller-manager-a cpu: running 0s / 1s, 0 B"), "\(stderr)")
                    #expect(stderr.last?.contains("saved cpu profile") == true, "\(stderr)")
                }
            }
        }
    }

    @Test("no Running pod, no such port, a failed port-forward, a certificate of another name: one clear line each, exit 1")
    func failures() async throws {
        let objects: (PluginCluster) async throws -> Void = { cluster in
            try await cluster.createPod("idle-0", labels: ["app": "idle"], ready: false)
            try await cluster.createPod("controller-manager-a")
            try await cluster.createPod("metrics-only", labels: ["app": "metrics"], ports: "[{name: metrics, containerPort: 8080}]")
        }
        try await Self.withTokenUser(namespace: "plugin-failures", person: "person", reader: true, objects: objects) { user in
            let (api, cluster, workspace, plugin, kubeconfig, ca, tls) = (user.api, user.cluster, user.workspace, user.plugin, user.kubeconfig, user.ca, user.tls)
            func failure(_ arguments: [String]) async throws -> String {
                let run = try await plugin.run(arguments + ["--cacert", ca, "--kubeconfig", kubeconfig])
                #expect(run.exitStatus == 1, "\(arguments): \(run.output)")
                #expect(run.stderr.count == 1 && run.stdout.isEmpty, "one line: \(run.output)")
                return run.stderr.first ?? ""
            }
            #expect(try await failure(["heap", "-l", "app=idle"])
                == "error: no Running, Ready pod for -l app=idle in namespace plugin-failures (idle-0 Pending)")
            #expect(try await failure(["heap", "-l", "app=nothing"]) == "error: no pod matches -l app=nothing in namespace plugin-failures")
            #expect(try await failure(["heap", "pod/missing"]) == "error: pod missing in namespace plugin-failures not found")
            #expect(try await failure(["heap", "pod/metrics-only"])
                == "error: pod metrics-only has no container port named pprof-https or numbered 8443 (its container ports: metrics 8080); pass --port")
            #expect(try await failure(["heap", "pod/controller-manager-a", "--port", "debug"])
                == "error: pod controller-manager-a has no container port named debug (its container ports: pprof-https 8443)")
            #expect(try await failure(["heap", "pod/controller-manager-a"])
                == "error: kubectl port-forward: to pod/controller-manager-a port 8443: error: unable to forward port because pod is not running. Current status=Pending")
            try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: cluster.namespace, arguments: RealAPIProxy.loopback(tls)) { proxy in
                try plugin.forward(pod: "controller-manager-a", to: proxy.proxy.port)
                let mismatch = try await failure(["heap", "pod/controller-manager-a", "--tls-server-name", "other.example"])
                #expect(mismatch.hasPrefix("error: the proxy's certificate does not name other.example (it names controller-manager-pprof"), "\(mismatch)")
                #expect(mismatch.hasSuffix("): pass --tls-server-name with one of them"), "\(mismatch)")
                let untrusted = try await plugin.run(["heap", "pod/controller-manager-a", "--kubeconfig", kubeconfig])
                #expect(untrusted.exitStatus == 1 && untrusted.stderr.first?.contains("is not signed by a CA this machine trusts: pass --cacert") == true, "\(untrusted.output)")
                #expect(try await proxy.upstream.requests().isEmpty, "nothing reached pprof")
            }
            // A certificate for the Service of another namespace (and localhost): the default name is
            // the Service in front of the pod, so it is refused although localhost would have passed.
            let elsewhere = try await TestCertificateAuthority(directory: workspace.path("proxy-ca"))
                .issueServingCertificate(file: "elsewhere", service: "\(PluginCluster.deployment)-pprof", namespace: "elsewhere")
            let arguments = ["--tls-cert-file=\(elsewhere.certificate)", "--tls-private-key-file=\(elsewhere.privateKey)"]
            try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: cluster.namespace, arguments: RealAPIProxy.loopback(arguments)) { proxy in
                try plugin.forward(pod: "controller-manager-a", to: proxy.proxy.port)
                let line = try await failure(["heap", "pod/controller-manager-a"])
                #expect(line.hasPrefix("error: the proxy's certificate does not name controller-manager-pprof.plugin-failures.svc (it names "), "\(line)")
                #expect(line.contains("controller-manager-pprof.elsewhere.svc") && line.contains("localhost"), "\(line)")
            }
        }
    }
}
