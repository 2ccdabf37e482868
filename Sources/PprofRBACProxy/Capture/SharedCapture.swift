import NIOCore
import NIOHTTP1

/// One CPU profile or trace read from the upstream once and delivered to every request that
/// shares it: the one that started it and those that joined within the join window.
///
/// It lives on the event loop of the request that started it. Joiners on other loops get the
/// response parts received so far (kept while the capture can be joined) and then the rest as they
/// arrive. The upstream is read only while every subscriber keeps up, and closed as soon as the
/// last subscriber leaves, which releases the profiler.
///
/// A capture closed early releases the profiler only once Go notices the closed connection, a
/// moment later. A capture that starts in that moment and gets Go's 500 ("already in use") is
/// sent again after a short pause instead of relaying the 500, while the lane is settling.
final class SharedCapture: UpstreamResponseDelegate {
    /// Parts kept for joiners; past this, nobody else may join.
    static let replayLimit = 4 * 1024 * 1024
    /// A subscriber this far behind pauses the upstream.
    static let highWaterMark = 512 * 1024
    /// The pause before sending a capture again that met a profiler still being released.
    static let retryPause: Duration = .milliseconds(50)

    private struct Subscriber {
        var handle: CaptureSubscriberHandle
        var dispatched = 0
        var acknowledged = 0
    }

    private enum Phase {
        case connecting
        case streaming
        /// Reading Go's 500 to its end, to send the request again.
        case retrying(keepAlive: Bool)
        case ended
        case failed(UpstreamError)
    }

    let id: UInt64
    let lane: CaptureScheduler.Lane
    private let eventLoop: any EventLoop
    private let scheduler: CaptureScheduler
    private var request: (head: HTTPRequestHead, upstream: any UpstreamConnector)?
    private var exchange: (any UpstreamExchange)?
    private var phase = Phase.connecting
    private var subscribers: [UInt64: Subscriber] = [:]
    /// Everything received, while the capture can still be joined.
    private var replay: [HTTPClientResponsePart]? = []
    private var replayBytes = 0
    private var upstreamKeepAlive = true

    init(id: UInt64, lane: CaptureScheduler.Lane, eventLoop: any EventLoop, scheduler: CaptureScheduler) {
        self.id = id
        self.lane = lane
        self.eventLoop = eventLoop
        self.scheduler = scheduler
    }

    /// A handle that other event loops can hold.
    var handle: SharedCaptureHandle {
        SharedCaptureHandle(eventLoop: eventLoop, capture: NIOLoopBound(self, eventLoop: eventLoop))
    }

    /// Leases an upstream connection and sends `head`; joining closes after `joinWindow`.
    func start(head: HTTPRequestHead, upstream: any UpstreamConnector, joinWindow: Duration) {
        eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(joinWindow)) { [self] in closeJoining() }
        request = (head, upstream)
        send()
    }

    private func send() {
        guard let (head, upstream) = request else { return }
        upstream.lease(on: eventLoop, fresh: false) { [self] result in
            switch result {
            case .success(let connection):
                guard case .connecting = phase, !subscribers.isEmpty else {
                    connection.finish(reusable: true)
                    finish(.failed(.closedBeforeResponse(reused: false)))
                    return
                }
                phase = .streaming
                exchange = connection
                connection.begin(delegate: self)
                connection.write(.head(head))
                connection.write(.end(nil))
                connection.flush()
            case .failure(let error):
                finish(.failed(error))
            }
        }
    }

    /// Adds a subscriber: it gets everything received so far, then the rest. A joiner that arrives
    /// after joining closed (the window passed while it was on its way) is turned away to be placed again.
    func subscribe(_ subscriber: CaptureSubscriberHandle) {
        guard replay != nil else {
            subscriber.joinRefused()
            return
        }
        subscribers[subscriber.id] = Subscriber(handle: subscriber)
        if let replay, !replay.isEmpty {
            dispatch(replay, to: subscriber.id)
        }
        if case .failed(let error) = phase {
            subscriber.fail(error)
        }
    }

    /// The request that was to start this capture is gone before starting it: anyone who tries to
    /// join is turned away to be placed again.
    func withdraw() {
        replay = nil
        for subscriber in subscribers.values {
            subscriber.handle.joinRefused()
        }
        subscribers.removeAll()
    }

    /// Removes a subscriber; when none is left the upstream request is closed.
    func unsubscribe(_ id: UInt64) {
        subscribers[id] = nil
        guard subscribers.isEmpty else {
            exchange?.resumeReading()
            return
        }
        switch phase {
        case .connecting, .streaming, .retrying:
            exchange?.finish(reusable: false)
            exchange = nil
            finish(.failed(.closedBeforeResponse(reused: false)))
        case .ended, .failed:
            break
        }
    }

    /// A subscriber wrote `bytes` more to its client.
    func acknowledge(_ id: UInt64, bytes: Int) {
        subscribers[id]?.acknowledged += bytes
        if acceptsResponseData {
            exchange?.resumeReading()
        }
    }

    // MARK: UpstreamResponseDelegate

    var acceptsResponseData: Bool {
        subscribers.values.allSatisfy { $0.dispatched - $0.acknowledged < Self.highWaterMark }
    }

    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        if case .retrying(let keepAlive) = phase {
            if case .end = part { sendAgain(reusable: keepAlive) }
            return
        }
        if case .head(let head) = part {
            if head.status == .internalServerError, scheduler.isSettling(lane) {
                phase = .retrying(keepAlive: head.isKeepAlive)
                return
            }
            upstreamKeepAlive = head.isKeepAlive
        }
        if replay != nil {
            replay?.append(part)
            replayBytes += part.bodyBytes
            if replayBytes > Self.replayLimit {
                closeJoining()
            }
        }
        for id in subscribers.keys {
            dispatch([part], to: id)
        }
        if case .end = part {
            exchange?.finish(reusable: upstreamKeepAlive)
            exchange = nil
            finish(.ended)
        }
    }

    func upstreamReadComplete() {}

    func upstreamWritabilityChanged() {}

    func upstreamFailed(_ error: UpstreamError) {
        exchange = nil
        finish(.failed(error))
    }

    /// Go's 500 has been read: the request goes out again after a pause, on a fresh lease.
    private func sendAgain(reusable: Bool) {
        exchange?.finish(reusable: reusable)
        exchange = nil
        phase = .connecting
        eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(Self.retryPause)) { [self] in
            guard case .connecting = phase else { return }
            send()
        }
    }

    private func dispatch(_ parts: [HTTPClientResponsePart], to id: UInt64) {
        guard let subscriber = subscribers[id] else { return }
        subscribers[id]?.dispatched += parts.reduce(0) { $0 + $1.bodyBytes }
        subscriber.handle.deliver(parts)
    }

    private func closeJoining() {
        guard replay != nil else { return }
        replay = nil
        replayBytes = 0
        scheduler.stopJoining(id)
    }

    /// The upstream work is over: the lane is free for the next capture. A capture cut short while
    /// its request was upstream leaves the lane settling.
    private func finish(_ outcome: Phase) {
        let cutShort: Bool
        switch (phase, outcome) {
        case (.ended, _), (.failed, _):
            return
        case (.streaming, .failed):
            cutShort = true
        default:
            cutShort = false
        }
        phase = outcome
        scheduler.finished(id, cutShort: cutShort)
        if case .failed(let error) = outcome {
            for subscriber in subscribers.values {
                subscriber.handle.fail(error)
            }
        }
    }
}

/// A shared capture as other event loops hold it; every call hops to the capture's loop.
struct SharedCaptureHandle: Sendable {
    let eventLoop: any EventLoop
    let capture: NIOLoopBound<SharedCapture>

    func subscribe(_ subscriber: CaptureSubscriberHandle) {
        eventLoop.execute { capture.value.subscribe(subscriber) }
    }

    func unsubscribe(_ id: UInt64) {
        eventLoop.execute { capture.value.unsubscribe(id) }
    }

    func acknowledge(_ id: UInt64, bytes: Int) {
        eventLoop.execute { capture.value.acknowledge(id, bytes: bytes) }
    }
}

/// What a shared capture delivers to each request taking part in it (the capture handler; a seam
/// for tests). Called on the request's event loop.
protocol CaptureSubscriber: AnyObject {
    func captureDelivered(_ parts: [HTTPClientResponsePart])
    func captureFailed(_ error: UpstreamError)
    /// The capture could not be joined any more by the time the request got there.
    func captureJoinRefused()
}

/// A request taking part in a shared capture, as the capture holds it; every call hops to the
/// request's loop.
struct CaptureSubscriberHandle: Sendable {
    let id: UInt64
    let eventLoop: any EventLoop
    let subscriber: NIOLoopBound<any CaptureSubscriber>

    func deliver(_ parts: [HTTPClientResponsePart]) {
        eventLoop.execute { subscriber.value.captureDelivered(parts) }
    }

    func fail(_ error: UpstreamError) {
        eventLoop.execute { subscriber.value.captureFailed(error) }
    }

    func joinRefused() {
        eventLoop.execute { subscriber.value.captureJoinRefused() }
    }
}

extension HTTPClientResponsePart {
    /// The body bytes this part carries.
    var bodyBytes: Int {
        if case .body(let buffer) = self { buffer.readableBytes } else { 0 }
    }
}
