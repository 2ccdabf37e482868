import Foundation
import Testing
import TestProcesses

/// `kubectl pprof` where no cluster is needed: its command line, and `--url` to a proxy on this
/// machine in local mode (a token file, static rules), with `--open`. The rest runs against the
/// real API server (`RealAPIPluginTests`).
@Suite("kubectl pprof", .timeLimit(.minutes(3)))
struct KubectlPprofTests {
    /// A kubeconfig whose user has alice's token; its cluster is never called with `--url`.
    static func aliceKubeconfig(in workspace: TestWorkspace) throws -> String {
        try workspace.write("""
            apiVersion: v1
            kind: Config
            clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
            users: [{name: alice, user: {token: \(TestUsers.alice.token)}}]
            contexts: [{name: none, context: {cluster: none, user: alice}}]
            current-context: none
            """, to: "kubeconfig")
    }

    @Test("--help lists every flag, the profiles and examples, and exits 0")
    func help() async throws {
        try await using(try TestWorkspace()) { workspace in
            let run = try await KubectlPprofPlugin(workspace: workspace).run(["--help"])
            #expect(run.exitStatus == 0)
            // Lines are wrapped at 80 columns: compare with the wrapping undone.
            let text = run.stdout.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            for flag in [
                "--selector", "--namespace", "--all", "--port", "--url", "--kubeconfig", "--context", "--token-from-serviceaccount",
                "--token-audience", "--cacert", "--tls-server-name", "--insecure-skip-tls-verify", "--seconds", "--gc", "--debug",
                "--output", "--wait", "--open", "--diff-base", "cpu, heap, allocs, goroutine, block, mutex, threadcreate, trace",
                "Examples:", "kubectl pprof cpu deploy/controller-manager -n example-system --open", "2 usage error",
            ] {
                #expect(text.contains(flag), "--help mentions \(flag)")
            }
        }
    }

    @Test("usage errors exit 2 and say what is wrong", arguments: [
        (["cpu"], "name a TARGET"),
        (["flame", "pod/a"], "The value 'flame' is invalid for '<PROFILE>'"),
        (["cpu", "pod/a", "--url", "https://127.0.0.1:8443"], "--url connects to one proxy directly"),
        (["cpu", "svc/a"], "is not pod/NAME or deploy/NAME"),
        (["cpu", "pod/a", "-l", "app=a"], "not both"),
        (["cpu", "pod/a", "--seconds", "0"], "--seconds must be above 0"),
        (["cpu", "--url", "http://127.0.0.1:8443"], "https://HOST:PORT"),
        (["cpu", "deploy/a", "--all", "-o", "x"], "--all writes one file per pod"),
        (["cpu", "pod/a", "--token-from-serviceaccount", "nobody"], "NAMESPACE/NAME"),
        (["cpu", "pod/a", "--frobnicate"], "Unknown option '--frobnicate'"),
    ])
    func usage(arguments: [String], message: String) async throws {
        try await using(try TestWorkspace()) { workspace in
            let run = try await KubectlPprofPlugin(workspace: workspace).run(arguments)
            #expect(run.exitStatus == 2, "\(run.output)")
            #expect(run.stderr.joined(separator: "\n").contains(message), "\(run.output)")
        }
    }

    @Test("--url with --insecure-skip-tls-verify warns; --open serves the flame graph (with --diff-base too); without Go it says how to view the file")
    func openFlameGraph() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            try await using(try TestWorkspace()) { workspace in
                let plugin = try KubectlPprofPlugin(workspace: workspace)
                let kubeconfig = try Self.aliceKubeconfig(in: workspace)
                let base = ["heap", "--url", environment.proxy.baseURL, "--insecure-skip-tls-verify", "--kubeconfig", kubeconfig]
                let saved = try await plugin.run(base + ["-o", "before.pb.gz"])
                #expect(saved.exitStatus == 0, "\(saved.output)")
                #expect(saved.stderr.first?.hasPrefix("warning: --insecure-skip-tls-verify") == true, "\(saved.output)")
                for extra in [[], ["--diff-base", "before.pb.gz"]] {
                    let viewer = try plugin.start(base + ["-o", "after.pb.gz", "--open"] + extra, environment: ["BROWSER": "true"])
                    try await using(viewer) { viewer in
                        let line = try await viewer.waitForLine(containing: "Flame graph: ", in: .stderr, timeout: .seconds(60))
                        let address = try #require(line.split(separator: " ").first { $0.hasPrefix("http://localhost:") && $0.hasSuffix("/ui/flamegraph") })
                        let page = try await Curl.perform(CurlRequest(url: String(address)))
                        #expect(page.status == 200 && page.bodyText.contains("flame"), "\(page.summary)")
                        viewer.send(signal: SIGTERM)
                        let status = try await viewer.waitForExit(timeout: .seconds(20))
                        #expect(status == 128 + SIGTERM, "go tool pprof is stopped with it")
                    }
                }
                let noGo = try await plugin.run(base + ["-o", "again.pb.gz", "--open"], environment: ["PATH": "/nonexistent"])
                #expect(noGo.exitStatus == 1)
                #expect(noGo.stderr.last == "error: go is not on PATH; where Go is installed, run: go tool pprof -http=: again.pb.gz", "\(noGo.output)")
                #expect(noGo.stdout == ["again.pb.gz"], "the profile is saved first")
            }
        }
    }

    @Test("a proxy that cannot be reached: one line, exit 1, and an earlier file of the same name left as it was")
    func unreachable() async throws {
        try await using(try TestWorkspace()) { workspace in
            let plugin = try KubectlPprofPlugin(workspace: workspace)
            let earlier = try workspace.write("an earlier profile", to: "keep.pb.gz")
            let port = try FreePort.find()
            let run = try await plugin.run(
                ["heap", "--url", "https://127.0.0.1:\(port)", "--kubeconfig", try Self.aliceKubeconfig(in: workspace), "-o", "keep.pb.gz"])
            #expect(run.exitStatus == 1)
            // A slow machine may take long enough to show where the fetch stands first.
            let waiting = "127.0.0.1:\(port) heap: waiting for the proxy "
            #expect(run.stderr.filter { !$0.hasPrefix(waiting) } == ["error: cannot connect to the proxy at 127.0.0.1:\(port): Connection refused"], "\(run.output)")
            #expect(try String(contentsOfFile: earlier, encoding: .utf8) == "an earlier profile")
            #expect(!FileManager.default.fileExists(atPath: earlier + ".partial"))
        }
    }

    @Test("kubectl finds it on PATH: `kubectl pprof --help` runs it", .enabled(if: RenderedManifests.kubectl != nil, "kubectl is not installed"))
    func kubectlPlugin() async throws {
        let binary = try PackagePaths.pluginBinary()
        var environment = ChildProcess.inheritedEnvironment
        environment["PATH"] = URL(fileURLWithPath: binary).deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "")
        let run = try await CompletedProcess.run("kubectl", arguments: ["pprof", "--help"], environment: environment, timeout: .seconds(60))
        #expect(run.exitStatus == 0, "\(run.output)")
        #expect(run.stdout.contains("USAGE: kubectl pprof PROFILE [TARGET | -l SELECTOR | --url URL] [flags]"), "\(run.output)")
    }

    @Test("429 from the capture queue: when to retry and --wait; with --wait it tries again after Retry-After and saves")
    func busy() async throws {
        try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--max-captures-per-user=1"]) { environment in
            try await using(try TestWorkspace()) { workspace in
                let plugin = try KubectlPprofPlugin(workspace: workspace)
                let kubeconfig = try Self.aliceKubeconfig(in: workspace)
                let holder = Task {
                    try await Curl.perform(CurlRequest(
                        url: environment.proxy.baseURL + "/debug/pprof/profile?seconds=60", bearerToken: TestUsers.alice.token, maxTime: .seconds(90)))
                }
                defer { holder.cancel() }
                // Alice's one capture: her next is refused at once, whatever the machine's load.
                _ = try await environment.upstream.waitForRequest("alice's long profile (its first slice)", timeout: .seconds(10)) {
                    $0.path == "/debug/pprof/profile"
                }
                let arguments = ["cpu", "--url", environment.proxy.baseURL, "--insecure-skip-tls-verify", "--kubeconfig", kubeconfig, "--seconds", "1"]
                let refused = try await plugin.run(arguments + ["-o", "refused.pb.gz"])
                #expect(refused.exitStatus == 1, "\(refused.output)")
                #expect(refused.stderr.contains { $0.hasPrefix("error: the proxy at 127.0.0.1:\(environment.proxy.port) is busy (429: Too Many Requests") }, "\(refused.output)")
                #expect(refused.stderr.last == "The pod's profiler is taken by other captures. Retry in 5 s, or run again with --wait to wait for it.")
                #expect(!FileManager.default.fileExists(atPath: workspace.path("refused.pb.gz")))
                let waiting = try plugin.start(arguments + ["-o", "waited.pb.gz", "--wait"])
                try await using(waiting) { waiting in
                    let line = try await waiting.waitForLine(containing: "as its Retry-After says", in: .stderr, timeout: .seconds(30))
                    #expect(line == "127.0.0.1:\(environment.proxy.port): the proxy is busy (429); waiting 5 s as its Retry-After says, then trying again")
                    holder.cancel()
                    let status = try await waiting.waitForExit(timeout: .seconds(60))
                    #expect(status == 0, "\(waiting.lines(in: .stderr))")
                    #expect(waiting.lines(in: .stdout) == ["waited.pb.gz"])
                }
            }
        }
    }
}
