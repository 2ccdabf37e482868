import Testing

@testable import PprofRBACProxy

@Suite("RateLimitedReviewClient: client-go's token bucket")
struct RateLimitedReviewClientTests {
    @Test("the burst goes at once, then calls are paced at the rate")
    func pacing() async throws {
        let stub = StubReviewClient(tokenStatus: { _ in TokenReviewStatus() })
        let limited = RateLimitedReviewClient(wrapping: stub, queriesPerSecond: 20, burst: 3)
        let start = ContinuousClock.now
        for _ in 0..<3 {
            _ = try await limited.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
        }
        #expect(ContinuousClock.now - start < .milliseconds(40), "the burst must not wait")
        for _ in 0..<4 {
            _ = try await limited.createSubjectAccessReview(SubjectAccessReviewSpec())
        }
        #expect(ContinuousClock.now - start >= .milliseconds(190), "4 calls beyond the burst at 20/s take 200 ms")
        #expect(stub.tokenReviews.withLockedValue { $0.count } == 3)
        #expect(stub.accessReviews.withLockedValue { $0.count } == 4)
    }
}
