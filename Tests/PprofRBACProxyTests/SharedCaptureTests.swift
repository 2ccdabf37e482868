import NIOCore
import NIOEmbedded
import NIOHTTP1
import Prometheus
import Testing

@testable import PprofRBACProxy

/// Records what a shared capture delivers to one request.
final class RecordingCaptureSubscriber: CaptureSubscriber {
    private(set) var parts: [HTTPClientResponsePart] = []
    private(set) var failures: [UpstreamError] = []

    var statuses: [HTTPResponseStatus] {
        parts.compactMap { if case .head(let head) = $0 { head.status } else { nil } }
    }

    func captureDelivered(_ parts: [HTTPClientResponsePart]) { self.parts += parts }
    func captureFailed(_ error: UpstreamError) { failures.append(error) }
    func captureJoinRefused() {}
}

@Suite("SharedCapture: one upstream capture for every request that shares it")
struct SharedCaptureTests {
    let clock = ManualClock()
    let loop = EmbeddedEventLoop()
    let scheduler: CaptureScheduler
    let profileHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/debug/pprof/profile?seconds=1")

    init() {
        scheduler = CaptureScheduler(
            configuration: .init(joinWindow: .seconds(2), queueTimeout: .seconds(60), queueSize: 2, maximumPerUser: 2),
            metrics: CaptureMetrics(factory: PrometheusMetricsFactory()), now: clock.now
        )
    }

    /// Admits a CPU capture that starts at once, with one subscriber, on `exchanges`.
    func startCapture(on exchanges: [FakeUpstreamExchange]) throws -> (SharedCapture, RecordingCaptureSubscriber, subscriberID: UInt64) {
        let id = scheduler.newID()
        let capture = SharedCapture(id: id, lane: .cpu, eventLoop: loop, scheduler: scheduler)
        let request = CaptureScheduler.Request(lane: .cpu, key: "GET /debug/pprof/profile 1.0", seconds: 1)
        guard case .start = scheduler.admit(request, id: id, capture: capture.handle, onTurn: {}) else {
            throw TestFailure()
        }
        let subscriber = RecordingCaptureSubscriber()
        let subscriberID = scheduler.newID()
        capture.subscribe(CaptureSubscriberHandle(
            id: subscriberID, eventLoop: loop, subscriber: NIOLoopBound(subscriber as any CaptureSubscriber, eventLoop: loop)
        ))
        capture.start(head: profileHead, upstream: FakeUpstreamConnector(exchanges), joinWindow: .seconds(2))
        loop.run()
        return (capture, subscriber, subscriberID)
    }

    func respond(_ exchange: FakeUpstreamExchange, status: HTTPResponseStatus, body: String) {
        exchange.delegate?.upstreamDidReceive(.head(HTTPResponseHead(version: .http1_1, status: status)))
        exchange.delegate?.upstreamDidReceive(.body(ByteBuffer(string: body)))
        exchange.delegate?.upstreamDidReceive(.end(nil))
        loop.run()
    }

    @Test("right after a capture was cut short, Go's 500 is not relayed: the request goes again and its 200 is")
    func settlingProfilerIsRetried() throws {
        let abandoned = FakeUpstreamExchange()
        let (first, _, firstSubscriber) = try startCapture(on: [abandoned])
        first.unsubscribe(firstSubscriber)
        #expect(abandoned.finished == false, "the upstream request is closed, not reused")
        #expect(scheduler.isSettling(.cpu))

        let busy = FakeUpstreamExchange()
        let released = FakeUpstreamExchange()
        let (_, subscriber, _) = try startCapture(on: [busy, released])
        respond(busy, status: .internalServerError, body: "Could not enable CPU profiling: cpu profiling already in use\n")
        #expect(subscriber.parts.isEmpty, "the 500 is not relayed")
        #expect(released.writtenHead == nil, "not sent again before the pause")

        loop.advanceTime(by: TimeAmount(SharedCapture.retryPause))
        #expect(released.writtenHead?.uri == "/debug/pprof/profile?seconds=1")
        respond(released, status: .ok, body: "profile")
        #expect(subscriber.statuses == [.ok])
        #expect(scheduler.occupancy(.cpu) == (0, 0))
    }

    @Test("once the lane has settled, or when nothing was cut short, Go's 500 is relayed unchanged")
    func otherwise500IsRelayed() throws {
        let inUse = FakeUpstreamExchange()
        let (_, fresh, _) = try startCapture(on: [inUse])
        respond(inUse, status: .internalServerError, body: "in use\n")
        #expect(fresh.statuses == [.internalServerError], "nobody was cut short: someone else holds the profiler")

        let abandoned = FakeUpstreamExchange()
        let (first, _, firstSubscriber) = try startCapture(on: [abandoned])
        first.unsubscribe(firstSubscriber)
        clock.advance(by: CaptureScheduler.settleTime)
        #expect(!scheduler.isSettling(.cpu))
        let busy = FakeUpstreamExchange()
        let (_, late, _) = try startCapture(on: [busy])
        respond(busy, status: .internalServerError, body: "in use\n")
        #expect(late.statuses == [.internalServerError])
    }
}
