/// Turns every finished exchange into request, cache and upstream metrics.
struct RequestMetrics: ExchangeObserver {
    let metrics: ProxyMetrics

    func exchangeEnded(_ record: ExchangeRecord) {
        let endpoint =
            if case .forward(let target) = record.decision?.verdict {
                PprofEndpoint.label(forNormalizedPath: target.path)
            } else {
                PprofEndpoint.label(forPath: record.path)
            }
        metrics.requestEnded(
            endpoint: endpoint, code: record.status.map(String.init) ?? "none", duration: record.duration,
            completed: record.completed, upstream: record.upstreamLatency.map { ($0, record.bytes) }
        )
        if let authentication = record.decision?.authentication, authentication.source == .tokenReview {
            metrics.authenticationCacheLookup(authentication.cached ? .hit : .miss)
        }
        if let authorization = record.decision?.authorization, authorization.source == .subjectAccessReview {
            metrics.authorizationCacheLookup(authorization.cached ? .hit : .miss)
        }
    }
}
