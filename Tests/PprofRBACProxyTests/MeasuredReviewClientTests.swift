import Testing

@testable import PprofRBACProxy

@Suite("MeasuredReviewClient: Kubernetes API call latency and errors")
struct MeasuredReviewClientTests {
    @Test("every call is timed; failures are counted by call and kind and still thrown")
    func callsAndErrors() async throws {
        let failures: [KubernetesAPIError] = [.timedOut, .unexpectedStatus(code: 500, message: "boom"), .timedOut]
        let stub = StubReviewClient(
            tokenStatus: { _ in TokenReviewStatus(authenticated: true) },
            accessStatus: { spec in throw failures[Int(spec.user ?? "0") ?? 0] }
        )
        let metrics = ProxyMetrics()
        let client = MeasuredReviewClient(wrapping: stub, metrics: metrics)
        _ = try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
        for index in failures.indices {
            await #expect(throws: failures[index]) {
                try await client.createSubjectAccessReview(SubjectAccessReviewSpec(user: String(index)))
            }
        }
        let exposition = MetricsExposition(metrics.exposition())
        #expect(exposition.value(#"pprof_rbac_proxy_kubernetes_api_request_duration_seconds_count{call="tokenreview"}"#) == 1)
        #expect(exposition.value(#"pprof_rbac_proxy_kubernetes_api_request_duration_seconds_count{call="subjectaccessreview"}"#) == 3)
        #expect(exposition.value(#"pprof_rbac_proxy_kubernetes_api_errors_total{call="subjectaccessreview",kind="timeout"}"#) == 2)
        #expect(exposition.value(#"pprof_rbac_proxy_kubernetes_api_errors_total{call="subjectaccessreview",kind="unexpected_status"}"#) == 1)
        #expect(exposition.value(#"pprof_rbac_proxy_kubernetes_api_errors_total{call="tokenreview",kind="timeout"}"#) == nil)
    }

    @Test("error kinds", arguments: [
        (KubernetesAPIError.unreachable("refused") as any Error, KubernetesAPIErrorKind.unreachable),
        (KubernetesAPIError.invalidResponse("x"), .invalidResponse), (CancellationError(), .cancelled), (TestFailure(), .other),
    ] as [(any Error, KubernetesAPIErrorKind)])
    func kinds(error: any Error, kind: KubernetesAPIErrorKind) {
        #expect(KubernetesAPIErrorKind(error) == kind)
    }
}
