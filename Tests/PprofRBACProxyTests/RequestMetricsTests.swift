import Foundation
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("RequestMetrics: requests, caches and the upstream, from exchange records")
struct RequestMetricsTests {
    let alice = UserInfo(name: "alice", groups: ["system:authenticated"])

    func record(
        _ path: String, status: UInt?, completed: Bool = true, decision: GateDecision? = nil,
        upstreamLatency: Duration? = nil, bytes: Int = 0
    ) -> ExchangeRecord {
        var record = ExchangeRecord(start: Date(), method: "GET", path: path)
        record.status = status
        record.completed = completed
        record.decision = decision
        record.upstreamLatency = upstreamLatency
        record.bytes = bytes
        record.duration = .milliseconds(40)
        return record
    }

    @Test("requests by code and endpoint, duration by endpoint, aborted ones counted apart")
    func requests() {
        let metrics = ProxyMetrics()
        let observer = RequestMetrics(metrics: metrics)
        observer.exchangeEnded(record("/debug/pprof/heap", status: 200))
        observer.exchangeEnded(record("/debug/pprof/heap?debug=1", status: 200))
        observer.exchangeEnded(record("/debug/pprof/heap", status: 401))
        observer.exchangeEnded(record("/debug/pprof/profile", status: nil, completed: false))
        observer.exchangeEnded(record("/anything/else", status: 404))
        let exposition = MetricsExposition(metrics.exposition())
        #expect(exposition.value(#"pprof_rbac_proxy_requests_total{code="200",endpoint="heap"}"#) == 2)
        #expect(exposition.value(#"pprof_rbac_proxy_requests_total{code="401",endpoint="heap"}"#) == 1)
        #expect(exposition.value(#"pprof_rbac_proxy_requests_total{code="none",endpoint="profile"}"#) == 1)
        #expect(exposition.value(#"pprof_rbac_proxy_requests_total{code="404",endpoint="other"}"#) == 1)
        #expect(exposition.value(#"pprof_rbac_proxy_requests_aborted_total{endpoint="profile"}"#) == 1)
        #expect(exposition.value(#"pprof_rbac_proxy_requests_aborted_total{endpoint="heap"}"#) == nil)
        #expect(exposition.value(#"pprof_rbac_proxy_request_duration_seconds_count{endpoint="heap"}"#) == 3)
        #expect(exposition.value(#"pprof_rbac_proxy_request_duration_seconds_bucket{endpoint="heap",le="0.05"}"#) == 3)
        #expect(exposition.value(#"pprof_rbac_proxy_request_duration_seconds_bucket{endpoint="heap",le="0.025"}"#) == 0)
    }

    @Test("cache hits and misses of TokenReview and SubjectAccessReview answers; other sources are not lookups")
    func caches() throws {
        let metrics = ProxyMetrics()
        let observer = RequestMetrics(metrics: metrics)
        let target = try RequestTarget(parsing: "/debug/pprof/heap")
        let answers: [(DecisionOrigin, DecisionOrigin?)] = [
            (DecisionOrigin(.tokenReview), DecisionOrigin(.subjectAccessReview)),
            (DecisionOrigin(.tokenReview, cached: true), DecisionOrigin(.subjectAccessReview, cached: true)),
            (DecisionOrigin(.tokenReview, cached: true), DecisionOrigin(.staticRules)),
            (DecisionOrigin(.tokenFile), DecisionOrigin(.subjectAccessReview, cached: true)),
            (DecisionOrigin(.clientCertificate), nil),
        ]
        for (authentication, authorization) in answers {
            let decision = GateDecision(.forward(target), user: alice, authentication: authentication, authorization: authorization)
            observer.exchangeEnded(record("/debug/pprof/heap", status: 200, decision: decision))
        }
        let exposition = MetricsExposition(metrics.exposition())
        #expect(exposition.value(#"pprof_rbac_proxy_authentication_cache_lookups_total{result="hit"}"#) == 2)
        #expect(exposition.value(#"pprof_rbac_proxy_authentication_cache_lookups_total{result="miss"}"#) == 1)
        #expect(exposition.value(#"pprof_rbac_proxy_authorization_cache_lookups_total{result="hit"}"#) == 2)
        #expect(exposition.value(#"pprof_rbac_proxy_authorization_cache_lookups_total{result="miss"}"#) == 1)
    }

    @Test("upstream latency and bytes only for forwarded requests")
    func upstream() {
        let metrics = ProxyMetrics()
        let observer = RequestMetrics(metrics: metrics)
        observer.exchangeEnded(record("/debug/pprof/heap", status: 200, upstreamLatency: .milliseconds(3), bytes: 1500))
        observer.exchangeEnded(record("/debug/pprof/heap", status: 200, upstreamLatency: .milliseconds(7), bytes: 500))
        observer.exchangeEnded(record("/debug/pprof/heap", status: 401, bytes: 13))
        let exposition = MetricsExposition(metrics.exposition())
        #expect(exposition.value(#"pprof_rbac_proxy_upstream_response_bytes_total{endpoint="heap"}"#) == 2000)
        #expect(exposition.value(#"pprof_rbac_proxy_upstream_latency_seconds_count{endpoint="heap"}"#) == 2)
        #expect(exposition.value(#"pprof_rbac_proxy_upstream_latency_seconds_sum{endpoint="heap"}"#) == 0.01)
    }

    @Test("a fresh instance starts from zero: cache and audit counters exist before any traffic")
    func freshRegistry() {
        let exposition = MetricsExposition(ProxyMetrics().exposition())
        #expect(exposition.value(#"pprof_rbac_proxy_authentication_cache_lookups_total{result="hit"}"#) == 0)
        #expect(exposition.value(#"pprof_rbac_proxy_audit_lines_dropped_total{reason="queue_full"}"#) == 0)
        #expect(exposition.value(#"pprof_rbac_proxy_requests_total{code="200",endpoint="heap"}"#) == nil)
    }
}
