import NIOConcurrencyHelpers
import Prometheus

/// The proxy's metrics, kept in one Prometheus registry and exposed at `/metrics`.
///
/// Everything that measures records here, through the instance it was handed, with help texts:
/// there is no global metrics system. Tests make a fresh instance each.
package final class ProxyMetrics: Sendable {
    /// Every metric name starts with this.
    static let prefix = "pprof_rbac_proxy_"

    /// From milliseconds (index pages, heap profiles) to the longest captures (`--max-capture-seconds`).
    static let requestDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
    ]
    /// A TokenReview or SubjectAccessReview call, up to the default `--kube-api-timeout`.
    static let kubernetesAPIBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// The time between two back-to-back CPU profile slices: well under a millisecond when the
    /// upstream is idle, up to a second when it is starved.
    static let sliceGapBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .seconds(1),
    ]

    package let registry: PrometheusCollectorRegistry
    /// The handles already made, so that a request looks its metrics up instead of asking the
    /// registry (which validates names and labels) every time.
    private let counters = NIOLockedValueBox<[MetricKey: Counter]>([:])
    private let histograms = NIOLockedValueBox<[MetricKey: DurationHistogram]>([:])
    private let gauges = NIOLockedValueBox<[MetricKey: Gauge]>([:])
    private let requestHandlesMade = NIOLockedValueBox<[EndpointAndCode: RequestHandles]>([:])

    /// Made at start, for every request.
    private let authenticationCacheLookups: [CacheLookup: Counter]
    private let authorizationCacheLookups: [CacheLookup: Counter]

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        func lookups(_ name: String, help: String) -> [CacheLookup: Counter] {
            Dictionary(uniqueKeysWithValues: CacheLookup.allCases.map { lookup in
                let descriptor = MetricNameDescriptor(metricName: Self.prefix + name, unitName: "", helpText: help)
                return (lookup, registry.makeCounter(descriptor: descriptor, labels: [("result", lookup.rawValue)]))
            })
        }
        authenticationCacheLookups = lookups("authentication_cache_lookups_total", help: Help.authenticationCache)
        authorizationCacheLookups = lookups("authorization_cache_lookups_total", help: Help.authorizationCache)
        for reason in AuditLineDropReason.allCases {
            counter("audit_lines_dropped_total", ["reason": reason.rawValue], help: Help.auditLinesDropped)
        }
        // Every capture series is exported (at 0) before the first capture.
        for lane in CaptureScheduler.Lane.allCases {
            captureOccupancyChanged(lane, running: 0, queued: 0)
            counter("captures_joined_total", ["kind": lane.rawValue], help: Help.capturesJoined)
        }
        for result in ["ok", "failed"] {
            counter("cpu_profile_slices_total", ["result": result], help: Help.cpuProfileSlices)
        }
        histogram("cpu_profile_slice_gap_seconds", [:], buckets: Self.sliceGapBuckets, help: Help.cpuProfileSliceGap)
    }

    /// The registry's metrics in the Prometheus text format (version 0.0.4).
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// One exchange ended: its status (`none` when no response head was sent), its endpoint, how long it took,
    /// whether it was cut short, and, when it was forwarded, how long the upstream took to answer and the
    /// body bytes relayed.
    func requestEnded(
        endpoint: String, code: String, duration: Duration, completed: Bool, upstream: (latency: Duration, bytes: Int)? = nil
    ) {
        let handles = requestHandles(endpoint: endpoint, code: code, forwarded: upstream != nil)
        handles.requests.increment()
        handles.duration.record(duration)
        if let upstream, let upstreamHandles = handles.upstream {
            upstreamHandles.latency.record(upstream.latency)
            upstreamHandles.bytes.increment(by: Int64(upstream.bytes))
        }
        if !completed {
            counter("requests_aborted_total", ["endpoint": endpoint], help: Help.requestsAborted).increment()
        }
    }

    /// What a request records into, by endpoint and status code: one lookup per request instead of one
    /// per metric. The upstream's series are made at the endpoint's first forwarded request, as before.
    private struct RequestHandles: Sendable {
        let requests: Counter
        let duration: DurationHistogram
        var upstream: (latency: DurationHistogram, bytes: Counter)?
    }

    private struct EndpointAndCode: Hashable {
        let endpoint: String
        let code: String
    }

    private func requestHandles(endpoint: String, code: String, forwarded: Bool) -> RequestHandles {
        requestHandlesMade.withLockedValue { made in
            let key = EndpointAndCode(endpoint: endpoint, code: code)
            if let handles = made[key], handles.upstream != nil || !forwarded {
                return handles
            }
            var handles =
                made[key]
                ?? RequestHandles(
                    requests: counter("requests_total", ["code": code, "endpoint": endpoint], help: Help.requests),
                    duration: histogram(
                        "request_duration_seconds", ["endpoint": endpoint], buckets: Self.requestDurationBuckets,
                        help: Help.requestDuration
                    )
                )
            if forwarded {
                handles.upstream = (
                    histogram(
                        "upstream_latency_seconds", ["endpoint": endpoint], buckets: Self.requestDurationBuckets,
                        help: Help.upstreamLatency
                    ),
                    counter("upstream_response_bytes_total", ["endpoint": endpoint], help: Help.upstreamBytes)
                )
            }
            made[key] = handles
            return handles
        }
    }

    /// Whether a TokenReview answer came from the cache.
    func authenticationCacheLookup(_ lookup: CacheLookup) {
        authenticationCacheLookups[lookup]?.increment()
    }

    /// Whether a SubjectAccessReview answer came from the cache.
    func authorizationCacheLookup(_ lookup: CacheLookup) {
        authorizationCacheLookups[lookup]?.increment()
    }

    /// One Kubernetes API call ended, successfully or not.
    func kubernetesAPICallEnded(_ call: KubernetesAPICall, duration: Duration) {
        histogram(
            "kubernetes_api_request_duration_seconds", ["call": call.rawValue], buckets: Self.kubernetesAPIBuckets,
            help: Help.kubernetesAPIDuration
        ).record(duration)
    }

    /// One Kubernetes API call failed.
    func kubernetesAPICallFailed(_ call: KubernetesAPICall, kind: KubernetesAPIErrorKind) {
        counter("kubernetes_api_errors_total", ["call": call.rawValue, "kind": kind.rawValue], help: Help.kubernetesAPIErrors)
            .increment()
    }

    /// A TLS handshake failed on `listener` (`proxy`, `endpoints` or `metrics`); `reason` is `eof`
    /// when the peer left mid-handshake, else `error`.
    func tlsHandshakeFailed(listener: String, reason: String) {
        counter("tls_handshake_failures_total", ["listener": listener, "reason": reason], help: Help.tlsHandshakeFailures)
            .increment()
    }

    /// The serving certificate now served expires at `notAfter` (Unix seconds).
    func servingCertificateLoaded(notAfter: Int) {
        gauge("serving_certificate_expiry_timestamp_seconds", [:], help: Help.servingCertificateExpiry).set(Int64(notAfter))
    }

    /// Captures running and queued in one lane (`kind="cpu"` or `kind="trace"`).
    func captureOccupancyChanged(_ lane: CaptureScheduler.Lane, running: Int, queued: Int) {
        gauge("captures_running", ["kind": lane.rawValue], help: Help.capturesRunning).set(Int64(running))
        gauge("captures_queued", ["kind": lane.rawValue], help: Help.capturesQueued).set(Int64(queued))
    }

    /// A request joined the running capture of its lane.
    func captureJoined(_ lane: CaptureScheduler.Lane) {
        counter("captures_joined_total", ["kind": lane.rawValue], help: Help.capturesJoined).increment()
    }

    /// One upstream CPU profile slice ended, merged (`ok`) or not (`failed`).
    func cpuProfileSliceEnded(succeeded: Bool) {
        counter("cpu_profile_slices_total", ["result": succeeded ? "ok" : "failed"], help: Help.cpuProfileSlices).increment()
    }

    /// The profiler was off this long between two consecutive slices, by the upstream's clock.
    func cpuProfileSliceGap(_ gap: Duration) {
        histogram("cpu_profile_slice_gap_seconds", [:], buckets: Self.sliceGapBuckets, help: Help.cpuProfileSliceGap)
            .record(gap)
    }

    /// Audit lines that were not written.
    func auditLinesDropped(_ count: Int, reason: AuditLineDropReason) {
        counter("audit_lines_dropped_total", ["reason": reason.rawValue], help: Help.auditLinesDropped).increment(by: Int64(count))
    }

    @discardableResult
    private func counter(_ name: String, _ labels: KeyValuePairs<String, String>, help: String) -> Counter {
        Self.handle(in: counters, for: MetricKey(name: name, labels: labels)) {
            registry.makeCounter(descriptor: descriptor(name, help: help), labels: labels.map { ($0.key, $0.value) })
        }
    }

    @discardableResult
    private func histogram(
        _ name: String, _ labels: KeyValuePairs<String, String>, buckets: [Duration], help: String
    ) -> DurationHistogram {
        Self.handle(in: histograms, for: MetricKey(name: name, labels: labels)) {
            registry.makeDurationHistogram(
                descriptor: descriptor(name, help: help), labels: labels.map { ($0.key, $0.value) }, buckets: buckets
            )
        }
    }

    private func gauge(_ name: String, _ labels: KeyValuePairs<String, String>, help: String) -> Gauge {
        Self.handle(in: gauges, for: MetricKey(name: name, labels: labels)) {
            registry.makeGauge(descriptor: descriptor(name, help: help), labels: labels.map { ($0.key, $0.value) })
        }
    }

    /// The handle already made for `key`, or the one `make` makes, kept for next time.
    private static func handle<Handle: Sendable>(
        in made: NIOLockedValueBox<[MetricKey: Handle]>, for key: MetricKey, make: () -> Handle
    ) -> Handle {
        made.withLockedValue { handles in
            if let handle = handles[key] { return handle }
            let handle = make()
            handles[key] = handle
            return handle
        }
    }

    /// A metric's name and its label pairs in order: what identifies one handle.
    private struct MetricKey: Hashable {
        let name: String
        let labels: [String]

        init(name: String, labels: KeyValuePairs<String, String>) {
            self.name = name
            self.labels = labels.flatMap { [$0.key, $0.value] }
        }
    }

    private func descriptor(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: Self.prefix + name, unitName: "", helpText: help)
    }

    /// The `# HELP` texts.
    private enum Help {
        static let requests = "Requests answered, by status code (none: no response head was sent) and pprof endpoint."
        static let requestsAborted = "Requests whose connection or stream ended before the response did, by pprof endpoint."
        static let requestDuration = "Time from the request head to the end of the response, by pprof endpoint."
        static let authenticationCache = "TokenReview answers taken from the token cache (hit) or asked for (miss)."
        static let authorizationCache = "SubjectAccessReview answers taken from the decision cache (hit) or asked for (miss)."
        static let upstreamLatency = "Time from forwarding a request to the upstream's response head, by pprof endpoint."
        static let upstreamBytes = "Response body bytes relayed from the upstream, by pprof endpoint."
        static let kubernetesAPIDuration = "Duration of TokenReview and SubjectAccessReview calls, failed ones included."
        static let kubernetesAPIErrors = "Failed TokenReview and SubjectAccessReview calls, by kind of failure."
        static let tlsHandshakeFailures = "TLS handshakes that failed, by listener; eof: the peer left mid-handshake."
        static let servingCertificateExpiry = "When the serving certificate expires, in Unix seconds."
        static let capturesRunning =
            "CPU profiles (cpu) and traces (trace) being captured upstream; with CPU profile slices, CPU profile requests being served."
        static let capturesQueued = "CPU profiles and traces waiting for the running one."
        static let capturesJoined = "Requests that shared a capture that had just started."
        static let cpuProfileSlices = "Upstream CPU profile slices taken for sliced CPU profile requests, merged (ok) or failed."
        static let cpuProfileSliceGap = "Time the upstream's CPU profiler was off between two consecutive slices."
        static let auditLinesDropped = "Audit lines not written: the writer queue was full, or the file could not be written."
    }
}
