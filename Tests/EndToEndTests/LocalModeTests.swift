import Testing

/// The embedded default: a token file and static rules, no cluster at all.
@Suite("Local mode", .timeLimit(.minutes(2)))
struct LocalModeTests {
    @Test("--token-auth-file and --config-file static rules: allowed 200, other user 403, bad or no token 401")
    func tokenFileAndStaticRules() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            let alice = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
            #expect(alice.status == 200, "\(alice.summary)")
            #expect(alice.isGzip)

            let bob = try await environment.request("/debug/pprof/heap", token: TestUsers.bob.token)
            expectProxyError(bob, status: 403, bodyPrefix: "Forbidden")

            let unknown = try await environment.request("/debug/pprof/heap", token: TestUsers.unknownToken)
            expectProxyError(unknown, status: 401, bodyPrefix: "Unauthorized")

            let anonymous = try await environment.request("/debug/pprof/heap")
            expectProxyError(anonymous, status: 401, bodyPrefix: "Unauthorized")

            let forwarded = try await environment.upstream.requests()
            #expect(forwarded.map(\.path) == ["/debug/pprof/heap"], "only alice's request is forwarded")
            try await environment.proxy.waitForLogLine(containing: "path=/debug/pprof/heap user=alice status=200")
        }
    }
}
