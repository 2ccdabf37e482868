import Foundation
import Testing
import TestProcesses

/// One test's world: a proxy, the pprof-server behind it, and the workspace holding its files.
struct ProxyEnvironment: Sendable {
    let workspace: TestWorkspace
    let upstream: PprofServer
    let proxy: ProxyProcess

    /// The `--audit-log-path` in the workspace (`auditLog: true`); every file starting with this name
    /// is checked for secrets when the test ends.
    static let auditLogName = "audit.log"

    /// The audit log of this environment's proxy, when it was started with `auditLog: true`.
    var auditLogPath: String { workspace.path(Self.auditLogName) }

    /// Sends a request through the proxy; `path` may carry a query and is sent as is.
    func request(
        _ path: String,
        token: String? = nil,
        httpVersion: HTTPVersion = .http1_1,
        maxTime: Duration = .seconds(30)
    ) async throws -> CurlResponse {
        try await Curl.perform(
            CurlRequest(url: proxy.baseURL + path, bearerToken: token, httpVersion: httpVersion, maxTime: maxTime))
    }

    /// The audit lines written so far, parsed; fails on a line that is not a JSON object.
    func auditLines(_ path: String? = nil) throws -> [[String: Any]] {
        let path = path ?? auditLogPath
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw EndToEndError("not a JSON object: \(line)")
            }
            return object
        }
    }

    /// Waits until the audit log holds `count` lines and returns them.
    func waitForAuditLines(count: Int) async throws -> [[String: Any]] {
        try await eventually("\(count) audit lines in \(auditLogPath)", timeout: .seconds(10)) {
            let lines = try auditLines()
            return lines.count >= count ? lines : nil
        }
    }

    /// Fails the current test if the pprof-server received any request.
    func expectNothingForwarded(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let forwarded = try await upstream.requests()
        #expect(forwarded.isEmpty, "forwarded to pprof: \(forwarded.map(\.path))", sourceLocation: sourceLocation)
    }

    /// Runs `body` against a proxy in Kubernetes mode: a kubeconfig pointing at a fresh fake API
    /// server (which knows `TestUsers` and grants `rules`, by default alice the pprof paths), plus
    /// `proxyArguments`, plus an `--audit-log-path` in the workspace with `auditLog`. The kubeconfig
    /// trusts `trustedAPIServerCA` for the API server instead of the CA that signed it, if given.
    static func withKubernetesProxy(
        proxyArguments: [String] = [],
        rules: [FakeAPIServerRule] = [.aliceReadsPprof],
        auditLog: Bool = false,
        trustedAPIServerCA: String? = nil,
        _ body: (ProxyEnvironment, FakeAPIServer) async throws -> Void
    ) async throws {
        try await using(try TestWorkspace()) { workspace in
            try await using(try await FakeAPIServer.start(in: workspace, rules: rules)) { apiServer in
                let kubeconfig = try workspace.write(
                    ConfigurationFiles.kubeconfig(
                        server: apiServer.url, certificateAuthority: trustedAPIServerCA ?? apiServer.certificateAuthority,
                        token: TestUsers.proxyCallerToken),
                    to: "kubeconfig")
                let audit = auditLog ? ["--audit-log-path", workspace.path(auditLogName)] : []
                let arguments = ["--kubeconfig", kubeconfig] + proxyArguments + audit
                try await withProxy(in: workspace, arguments: arguments) { environment in
                    try await body(environment, apiServer)
                }
            }
        }
    }

    /// Runs `body` against a proxy in local mode: a token file with `TestUsers` and a config file
    /// letting alice read /debug/pprof/*; no kubeconfig, no API server; an `--audit-log-path` in the
    /// workspace with `auditLog`.
    static func withLocalProxy(
        proxyArguments: [String] = [],
        auditLog: Bool = false,
        _ body: (ProxyEnvironment) async throws -> Void
    ) async throws {
        try await using(try TestWorkspace()) { workspace in
            let tokenFile = try workspace.write(ConfigurationFiles.tokenAuthFile(TestUsers.all), to: "tokens.csv")
            let configFile = try workspace.write(
                ConfigurationFiles.staticAuthorizationConfig([.aliceReadsPprof]), to: "config.yaml")
            let audit = auditLog ? ["--audit-log-path", workspace.path(auditLogName)] : []
            try await withProxy(
                in: workspace, arguments: ["--token-auth-file", tokenFile, "--config-file", configFile] + proxyArguments + audit,
                body)
        }
    }

    /// Starts a pprof-server and a proxy in front of it, runs `body`, checks that no secret leaked
    /// into the proxy's output or its audit log, and stops both.
    private static func withProxy(
        in workspace: TestWorkspace,
        arguments: [String],
        _ body: (ProxyEnvironment) async throws -> Void
    ) async throws {
        try await using(try await PprofServer.start()) { upstream in
            try await using(try await ProxyProcess.start(upstream: upstream.upstreamURL, arguments: arguments)) { proxy in
                try await body(ProxyEnvironment(workspace: workspace, upstream: upstream, proxy: proxy))
                expectNoSecrets(in: proxy.process)
                try expectNoSecrets(inFilesStartingWith: auditLogName, in: workspace)
            }
        }
    }
}

/// Fails the current test if any token a test handed out appears in a file of `workspace` whose
/// name starts with `prefix` (the audit log and its rotated copies).
func expectNoSecrets(
    inFilesStartingWith prefix: String, in workspace: TestWorkspace, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path).filter { $0.hasPrefix(prefix) }
    for name in names {
        let contents = try String(contentsOfFile: workspace.path(name), encoding: .utf8)
        let leaked = TestUsers.secrets.filter { contents.contains($0) }
        #expect(leaked.isEmpty, "\(name) holds bearer tokens: \(leaked)", sourceLocation: sourceLocation)
    }
}

/// Fails the current test if any token a test handed out appears in `process`'s output.
func expectNoSecrets(in process: ChildProcess, sourceLocation: SourceLocation = #_sourceLocation) {
    let output = process.allOutput
    let leaked = TestUsers.secrets.filter { output.contains($0) }
    #expect(leaked.isEmpty, "\(process.name) printed bearer tokens: \(leaked)", sourceLocation: sourceLocation)
}
