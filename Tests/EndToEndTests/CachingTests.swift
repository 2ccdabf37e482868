import Testing

/// Review results are cached, so steady scraping does not hammer the API server.
@Suite("Review caching", .timeLimit(.minutes(2)))
struct CachingTests {
    @Test("100 requests with one token cost exactly one TokenReview and one SubjectAccessReview")
    func oneReviewEach() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            let first = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
            #expect(first.status == 200, "\(first.summary)")

            // 99 more over three connections at once, each reused for 33 requests.
            let repeated = CurlRequest(url: environment.proxy.baseURL + "/debug/pprof/heap", bearerToken: TestUsers.alice.token)
            async let batchA = Curl.statusCodes(of: repeated, count: 33)
            async let batchB = Curl.statusCodes(of: repeated, count: 33)
            async let batchC = Curl.statusCodes(of: repeated, count: 33)
            let statuses = try await batchA + batchB + batchC
            #expect(statuses.count == 99)
            #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(Set(statuses))")

            #expect(try await apiServer.calls() == ReviewCalls(tokenReviews: 1, subjectAccessReviews: 1))
        }
    }
}
