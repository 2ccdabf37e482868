import Testing

/// An unhealthy Kubernetes API is an outage (503 with Retry-After), never a 401 and never cached.
@Suite("Kubernetes API failures", .timeLimit(.minutes(2)))
struct KubernetesAPIFailureTests {
    @Test("API server gone: 503 with Retry-After, nothing forwarded")
    func apiServerDown() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            await apiServer.tearDown()

            let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)

            expectProxyError(response, status: 503, bodyPrefix: "")
            #expect(response.header("Retry-After") != nil)
            try await environment.expectNothingForwarded()
        }
    }

    @Test("API server hanging: 503 soon after --kube-api-timeout")
    func apiServerHangs() async throws {
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: ["--kube-api-timeout", "1s"]) { environment, apiServer in
            try await apiServer.setMode(.hang)

            let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)

            expectProxyError(response, status: 503, bodyPrefix: "")
            #expect(response.header("Retry-After") != nil)
            #expect(response.elapsed < .seconds(8), "took \(response.elapsed) with a 1 s API timeout")
            try await environment.expectNothingForwarded()
        }
    }

    @Test("API server answering 500: 503, and the failure is not cached")
    func apiServerErrors() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            try await apiServer.setMode(.error500)
            let failed = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
            expectProxyError(failed, status: 503, bodyPrefix: "")
            #expect(failed.header("Retry-After") != nil)
            try await environment.expectNothingForwarded()

            try await apiServer.setMode(.normal)
            let recovered = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
            #expect(recovered.status == 200, "\(recovered.summary)")
        }
    }

    /// API faults met within the default `--kube-api-timeout`.
    static let faults: [FakeAPIServer.Mode] = [.error429, .garbage, .wrongKind, .reset]

    @Test("API server answering 429, garbage JSON, the wrong kind or a connection reset: 503, nothing forwarded, not cached", arguments: faults)
    func apiServerFaults(mode: FakeAPIServer.Mode) async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            try await Self.expectOutageNotCached(mode, in: environment, apiServer: apiServer)
        }
    }

    @Test("API server slower than --kube-api-timeout: 503 from the timeout, not from the slow answer, nothing forwarded, not cached")
    func apiServerSlowerThanTimeout() async throws {
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: ["--kube-api-timeout", "1s"]) { environment, apiServer in
            let responses = try await Self.expectOutageNotCached(.slow(.seconds(3)), in: environment, apiServer: apiServer)
            for response in responses {
                // The slow answer, after 3 s, would have been a 200, so each 503 (which
                // expectOutageNotCached checks) comes from the timeout: how long the whole curl took
                // on a loaded machine says nothing more. It must not come before the timeout.
                #expect(response.elapsed >= .seconds(1), "503 before the 1 s timeout: \(response.summary)")
            }
        }
    }

    @Test("API server slower than usual but within the default timeout: 200")
    func apiServerSlowWithinTimeout() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            try await apiServer.setMode(.slow(.milliseconds(300)))

            let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)

            #expect(response.status == 200, "\(response.summary)")
            #expect(response.elapsed >= .milliseconds(600), "a TokenReview and a SubjectAccessReview, 300 ms each: \(response.summary)")
            #expect(try await apiServer.calls() == ReviewCalls(tokenReviews: 1, subjectAccessReviews: 1))
        }
    }

    @Test("API server certificate from another CA than the kubeconfig's: 503, no review reaches it, nothing forwarded")
    func apiServerWrongCertificateAuthority() async throws {
        try await using(try TestWorkspace()) { certificates in
            let otherAuthority = try await TestCertificateAuthority.create(in: certificates, name: "other-ca")
            try await ProxyEnvironment.withKubernetesProxy(trustedAPIServerCA: otherAuthority.certificate) { environment, apiServer in
                for _ in 0..<2 {
                    let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
                    Self.expectOutage(response)
                }
                #expect(try await apiServer.calls() == .none, "a review was sent over an unverified connection")
                try await environment.expectNothingForwarded()
                #expect(
                    environment.proxy.process.lines(in: .stderr).contains { $0.contains("CERTIFICATE_VERIFY_FAILED") },
                    "the 503 must come from the failed verification:\n\(environment.proxy.process.allOutput)")
            }
        }
    }

    /// Checks the proxy's answer to an API outage: 503 with a positive Retry-After and its own body.
    static func expectOutage(_ response: CurlResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        expectProxyError(response, status: 503, bodyPrefix: "Service Unavailable", sourceLocation: sourceLocation)
        let retryAfter = response.header("Retry-After").flatMap { Int($0) }
        #expect((retryAfter ?? 0) > 0, "Retry-After: \(response.header("Retry-After") ?? "none")", sourceLocation: sourceLocation)
    }

    /// Puts the API server into `mode` twice, once while a token is checked and once while an
    /// authorization question is asked, and checks each time: 503, nothing forwarded, and back in
    /// `normal` mode the very next request succeeds and asks the API again (the failure was not
    /// cached as a rejection). Answers cached before the outage keep serving through it (the caches
    /// keep entries for their whole lifetime, whatever the API does). Returns the two 503s.
    @discardableResult
    static func expectOutageNotCached(
        _ mode: FakeAPIServer.Mode, in environment: ProxyEnvironment, apiServer: FakeAPIServer,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [CurlResponse] {
        let alice = TestUsers.alice.token

        // A token nobody has checked yet: the TokenReview fails.
        try await apiServer.setMode(mode)
        let authenticationFailed = try await environment.request("/debug/pprof/heap", token: alice)
        expectOutage(authenticationFailed, sourceLocation: sourceLocation)
        try await environment.expectNothingForwarded(sourceLocation: sourceLocation)
        let afterFirstOutage = try await apiServer.calls()
        #expect(afterFirstOutage.tokenReviews >= 1, "the API was never asked: \(afterFirstOutage)", sourceLocation: sourceLocation)
        #expect(afterFirstOutage.subjectAccessReviews == 0, sourceLocation: sourceLocation)

        try await apiServer.setMode(.normal)
        let recovered = try await environment.request("/debug/pprof/heap", token: alice)
        #expect(recovered.status == 200, "\(recovered.summary)", sourceLocation: sourceLocation)
        let afterRecovery = try await apiServer.calls()
        #expect(afterRecovery.tokenReviews == afterFirstOutage.tokenReviews + 1, "the failed TokenReview was cached: \(afterRecovery)", sourceLocation: sourceLocation)
        #expect(afterRecovery.subjectAccessReviews == 1, "\(afterRecovery)", sourceLocation: sourceLocation)

        // The token and the heap decision are cached now: they keep serving during the outage.
        try await apiServer.setMode(mode)
        let cached = try await environment.request("/debug/pprof/heap", token: alice)
        #expect(cached.status == 200, "a cached decision must serve during the outage: \(cached.summary)", sourceLocation: sourceLocation)
        #expect(try await apiServer.calls() == afterRecovery, "a cached decision asked the API", sourceLocation: sourceLocation)

        // A question nobody has asked yet: the SubjectAccessReview fails.
        let authorizationFailed = try await environment.request("/debug/pprof/goroutine", token: alice)
        expectOutage(authorizationFailed, sourceLocation: sourceLocation)
        let afterSecondOutage = try await apiServer.calls()
        #expect(afterSecondOutage.tokenReviews == afterRecovery.tokenReviews, "\(afterSecondOutage)", sourceLocation: sourceLocation)
        #expect(afterSecondOutage.subjectAccessReviews > afterRecovery.subjectAccessReviews, "\(afterSecondOutage)", sourceLocation: sourceLocation)
        let goroutinesForwarded = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/goroutine" }
        #expect(goroutinesForwarded.isEmpty, "forwarded without a decision", sourceLocation: sourceLocation)

        try await apiServer.setMode(.normal)
        let authorized = try await environment.request("/debug/pprof/goroutine", token: alice)
        #expect(authorized.status == 200, "\(authorized.summary)", sourceLocation: sourceLocation)
        let afterSecondRecovery = try await apiServer.calls()
        #expect(
            afterSecondRecovery.subjectAccessReviews == afterSecondOutage.subjectAccessReviews + 1,
            "the failed SubjectAccessReview was cached: \(afterSecondRecovery)", sourceLocation: sourceLocation)
        return [authenticationFailed, authorizationFailed]
    }
}
