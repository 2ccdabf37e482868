import Testing

@testable import PprofRBACProxy

@Suite("RateLimitedReviewClient: client-go's token bucket")
struct RateLimitedReviewClientTests {
    @Test("the burst goes at once, then tokens come at the rate, and an idle bucket refills up to the burst")
    func reservations() {
        let start = ContinuousClock.now
        let bucket = TokenBucket(rate: 20, burst: 3, now: start)
        #expect((0..<3).map { _ in bucket.reserve(at: start) } == [.zero, .zero, .zero])
        // At 20 per second, the 4th to 7th callers wait 50, 100, 150 and 200 ms.
        let waits = (0..<4).map { _ in bucket.reserve(at: start) }
        #expect(waits.map { Int(($0 / .milliseconds(1)).rounded()) } == [50, 100, 150, 200])
        // One second later the 4 tokens owed are paid back and the bucket is full again: 3, not more.
        let later = start + .seconds(1)
        #expect((0..<3).map { _ in bucket.reserve(at: later) } == [.zero, .zero, .zero])
        #expect(bucket.reserve(at: later) > .zero)
    }

    @Test("calls beyond the burst are paced at the rate")
    func pacing() async throws {
        let stub = StubReviewClient(tokenStatus: { _ in TokenReviewStatus() })
        let limited = RateLimitedReviewClient(wrapping: stub, queriesPerSecond: 20, burst: 3)
        let start = ContinuousClock.now
        for _ in 0..<3 {
            _ = try await limited.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
        }
        for _ in 0..<4 {
            _ = try await limited.createSubjectAccessReview(SubjectAccessReviewSpec())
        }
        #expect(ContinuousClock.now - start >= .milliseconds(190), "4 calls beyond the burst at 20/s take 200 ms")
        #expect(stub.tokenReviews.withLockedValue { $0.count } == 3)
        #expect(stub.accessReviews.withLockedValue { $0.count } == 4)
    }
}
