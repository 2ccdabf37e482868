/// Times every TokenReview and SubjectAccessReview call and counts the failures, by kind.
struct MeasuredReviewClient: KubernetesReviewClient {
    let wrapped: any KubernetesReviewClient
    let metrics: ProxyMetrics

    init(wrapping wrapped: any KubernetesReviewClient, metrics: ProxyMetrics) {
        self.wrapped = wrapped
        self.metrics = metrics
    }

    func createTokenReview(_ spec: TokenReviewSpec) async throws -> TokenReviewStatus {
        try await measure(.tokenReview) { try await wrapped.createTokenReview(spec) }
    }

    func createSubjectAccessReview(_ spec: SubjectAccessReviewSpec) async throws -> SubjectAccessReviewStatus {
        try await measure(.subjectAccessReview) { try await wrapped.createSubjectAccessReview(spec) }
    }

    private func measure<Status>(_ call: KubernetesAPICall, _ operation: () async throws -> Status) async throws -> Status {
        let started = ContinuousClock.now
        defer { metrics.kubernetesAPICallEnded(call, duration: ContinuousClock.now - started) }
        do {
            return try await operation()
        } catch {
            metrics.kubernetesAPICallFailed(call, kind: KubernetesAPIErrorKind(error))
            throw error
        }
    }
}
