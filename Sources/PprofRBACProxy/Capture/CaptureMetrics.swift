import CoreMetrics

/// The capture scheduler's gauges and counter, by lane (`kind="cpu"` or `kind="trace"`): captures
/// running and queued, and requests that joined a running capture.
struct CaptureMetrics: Sendable {
    static let running = ProxyMetrics.prefix + "captures_running"
    static let queued = ProxyMetrics.prefix + "captures_queued"
    static let joined = ProxyMetrics.prefix + "captures_joined_total"

    private let runningGauges: [CaptureScheduler.Lane: Gauge]
    private let queuedGauges: [CaptureScheduler.Lane: Gauge]
    private let joinedCounters: [CaptureScheduler.Lane: Counter]

    /// Makes every series at once, so that each is exported (at 0) before the first capture.
    init(factory: any MetricsFactory = MetricsSystem.factory) {
        func byLane<Metric>(_ make: (CaptureScheduler.Lane) -> Metric) -> [CaptureScheduler.Lane: Metric] {
            Dictionary(uniqueKeysWithValues: CaptureScheduler.Lane.allCases.map { ($0, make($0)) })
        }
        runningGauges = byLane { Gauge(label: Self.running, dimensions: [("kind", $0.rawValue)], factory: factory) }
        queuedGauges = byLane { Gauge(label: Self.queued, dimensions: [("kind", $0.rawValue)], factory: factory) }
        joinedCounters = byLane { Counter(label: Self.joined, dimensions: [("kind", $0.rawValue)], factory: factory) }
        for lane in CaptureScheduler.Lane.allCases {
            occupancyChanged(lane, running: 0, queued: 0)
            joinedCounters[lane]?.increment(by: 0)
        }
    }

    func occupancyChanged(_ lane: CaptureScheduler.Lane, running: Int, queued: Int) {
        runningGauges[lane]?.record(running)
        queuedGauges[lane]?.record(queued)
    }

    func joined(_ lane: CaptureScheduler.Lane) {
        joinedCounters[lane]?.increment()
    }
}
