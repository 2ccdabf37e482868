import Foundation

/// A running pprof-rbac-proxy binary, listening on a free loopback port.
struct ProxyProcess: TestResource {
    let process: ChildProcess
    let port: Int

    var baseURL: String { "https://127.0.0.1:\(port)" }

    /// Starts the proxy in front of `upstream` and waits for its `listening on` line on stderr.
    static func start(upstream: String, arguments: [String]) async throws -> ProxyProcess {
        try await start(arguments: ["--secure-listen-address", "127.0.0.1:0", "--upstream", upstream] + arguments)
    }

    /// Starts the proxy with exactly `arguments` (which must listen on a loopback port 0) and waits
    /// for its `listening on` line on stderr.
    static func start(arguments: [String]) async throws -> ProxyProcess {
        let process = try launch(arguments)
        do {
            let line = try await process.waitForLine(containing: ListeningAddress.marker, in: .stderr, timeout: .seconds(30))
            return ProxyProcess(process: process, port: try ListeningAddress.port(in: line))
        } catch {
            await process.tearDown()
            throw error
        }
    }

    /// Starts the proxy binary with exactly `arguments`, without waiting for anything.
    static func launch(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess.launch(try PackagePaths.proxyBinary().path, arguments: arguments, name: "pprof-rbac-proxy")
    }

    /// Runs the proxy in local mode (a token file, so no cluster is needed) in front of `upstream`
    /// with `arguments` that should stop it at startup; returns its exit status and output.
    static func startupRefusal(upstream: String, arguments: [String]) async throws -> (status: Int32, output: String) {
        try await using(try TestWorkspace()) { workspace in
            let tokens = try workspace.write("t,alice,uid\n", to: "tokens.csv")
            let process = try launch(
                ["--secure-listen-address", "127.0.0.1:0", "--upstream", upstream, "--token-auth-file", tokens] + arguments)
            return try await using(process) { process in
                let status = try await process.waitForExit(timeout: .seconds(15))
                return (status, process.allOutput)
            }
        }
    }

    /// Waits for the per-request log line containing `text`, e.g. `path=/debug/pprof/heap user=alice status=200`.
    @discardableResult
    func waitForLogLine(containing text: String) async throws -> String {
        try await process.waitForLine(containing: text, in: .stderr, timeout: .seconds(5))
    }

    func tearDown() async {
        await process.tearDown()
    }
}
