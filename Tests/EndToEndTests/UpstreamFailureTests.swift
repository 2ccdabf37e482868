import Testing

/// An unreachable or misbehaving pprof server is a 502, never a 200.
@Suite("Upstream failures", .timeLimit(.minutes(2)))
struct UpstreamFailureTests {
    @Test("pprof server not running: 502")
    func upstreamDown() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            await environment.upstream.tearDown()

            let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)

            expectProxyError(response, status: 502, bodyPrefix: "")
        }
    }

    @Test("pprof server closing the connection before a response head: 502")
    func upstreamHangsUp() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let response = try await environment.request("/debug/pprof/hangup", token: TestUsers.alice.token)

            expectProxyError(response, status: 502, bodyPrefix: "")
            let hangups = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/hangup" }
            #expect(!hangups.isEmpty, "the 502 must come from pprof hanging up, so the request has to reach it")
        }
    }
}
