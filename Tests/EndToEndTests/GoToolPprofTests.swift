import Foundation
import Testing

/// The real `go tool pprof`, fetching through the proxy with the token as the URL's password.
@Suite("go tool pprof", .timeLimit(.minutes(2)))
struct GoToolPprofTests {
    /// Runs `go tool pprof -top URL` trusting `certificateAuthority`, with HOME and PPROF_TMPDIR in
    /// `workspace`, so that pprof writes nothing outside it.
    func pprofTop(_ url: String, certificateAuthority: String, workspace: TestWorkspace) async throws -> CompletedProcess {
        var environment = ChildProcess.inheritedEnvironment
        environment["SSL_CERT_FILE"] = certificateAuthority
        environment["HOME"] = workspace.path("home")
        environment["PPROF_TMPDIR"] = workspace.path("pprof")
        environment["GOCACHE"] = workspace.path("go-cache")
        return try await CompletedProcess.run(
            "go", arguments: ["tool", "pprof", "-top", url], environment: environment, timeout: .seconds(60))
    }

    /// Runs `body` against a local proxy serving a certificate from a test CA, with `proxyArguments`.
    func withProxy(
        proxyArguments: [String], _ body: (ProxyEnvironment, ServingCertificate, TestWorkspace) async throws -> Void
    ) async throws {
        try await using(try TestWorkspace()) { workspace in
            let serving = try await ServingCertificate.generate(in: workspace)
            try await ProxyEnvironment.withLocalProxy(
                proxyArguments: ["--tls-cert-file", serving.certificate, "--tls-private-key-file", serving.privateKey] + proxyArguments
            ) { environment in
                try await body(environment, serving, workspace)
            }
        }
    }

    @Test("With --allow-basic-auth-token, https://x:TOKEN@host/debug/pprof/heap works")
    func basicToken() async throws {
        try await withProxy(proxyArguments: ["--allow-basic-auth-token"]) { environment, serving, workspace in
            let url = "https://x:\(TestUsers.alice.token)@127.0.0.1:\(environment.proxy.port)/debug/pprof/heap"
            let result = try await pprofTop(url, certificateAuthority: serving.certificateAuthority, workspace: workspace)
            #expect(result.exitStatus == 0, "\(result.output)")
            #expect(result.stdout.contains { $0.contains("flat%") }, "a -top table: \(result.output)")
            try await environment.proxy.waitForLogLine(containing: "path=/debug/pprof/heap user=alice status=200")
        }
    }

    @Test("Without the flag, pprof prints the proxy's 401 message")
    func basicTokenRefused() async throws {
        try await withProxy(proxyArguments: []) { environment, serving, workspace in
            let url = "https://x:\(TestUsers.alice.token)@127.0.0.1:\(environment.proxy.port)/debug/pprof/heap"
            let result = try await pprofTop(url, certificateAuthority: serving.certificateAuthority, workspace: workspace)
            #expect(result.exitStatus != 0)
            #expect(result.stderr.contains { $0.contains("401") && $0.contains("Unauthorized") }, "\(result.output)")
            try await environment.proxy.waitForLogLine(containing: "path=/debug/pprof/heap user=- status=401")
            try await environment.expectNothingForwarded()
        }
    }
}
