import NIOConcurrencyHelpers

/// Paces TokenReview and SubjectAccessReview calls with a token bucket, as client-go does
/// (`--kube-api-qps`, default 5 per second, `--kube-api-burst`, default 10).
package struct RateLimitedReviewClient: KubernetesReviewClient {
    private let wrapped: any KubernetesReviewClient
    private let bucket: TokenBucket

    package init(wrapping wrapped: any KubernetesReviewClient, queriesPerSecond: Double, burst: Int) {
        self.wrapped = wrapped
        self.bucket = TokenBucket(rate: queriesPerSecond, burst: burst)
    }

    package func createTokenReview(_ spec: TokenReviewSpec) async throws -> TokenReviewStatus {
        try await bucket.take()
        return try await wrapped.createTokenReview(spec)
    }

    package func createSubjectAccessReview(_ spec: SubjectAccessReviewSpec) async throws -> SubjectAccessReviewStatus {
        try await bucket.take()
        return try await wrapped.createSubjectAccessReview(spec)
    }
}

/// A token bucket that hands out reservations: a caller that finds it empty is told how long to
/// wait for its token, so waiting callers are served in arrival order.
final class TokenBucket: Sendable {
    private struct State {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let state: NIOLockedValueBox<State>

    init(rate: Double, burst: Int, now: ContinuousClock.Instant = .now) {
        self.rate = max(rate, .leastNonzeroMagnitude)
        self.burst = Double(max(burst, 1))
        self.state = NIOLockedValueBox(State(tokens: Double(max(burst, 1)), updated: now))
    }

    /// Waits until a token is available and takes it.
    func take() async throws {
        let wait = reserve(at: .now)
        if wait > .zero {
            try await Task.sleep(for: wait)
        }
    }

    /// Takes a token at `now` and says how long its taker must wait for it (zero while the bucket
    /// holds one).
    func reserve(at now: ContinuousClock.Instant) -> Duration {
        state.withLockedValue { state -> Duration in
            let elapsed = max(now - state.updated, .zero)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            state.tokens = min(burst, state.tokens + seconds * rate)
            state.updated = max(now, state.updated)
            state.tokens -= 1
            return state.tokens >= 0 ? .zero : .seconds(-state.tokens / rate)
        }
    }
}
