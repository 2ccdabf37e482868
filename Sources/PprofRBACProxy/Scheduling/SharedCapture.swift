import NIOCore
import NIOHTTP1

/// One CPU profile or trace response, forwarded once for the request that started it (the source)
/// and teed to every request that joined within the join window.
///
/// It lives on the event loop of the source, whose `CaptureHandler` publishes here each part of
/// the response the forwarder relays. Joiners on other loops get the parts published so far (kept
/// while the capture can be joined) and then the rest as they arrive. While a joiner is more than
/// `highWaterMark` behind, the source holds its upstream reads, so the upstream is read only as fast
/// as the slowest client.
///
/// When the source's request ends without a complete response (its client left, or the upstream
/// broke off), joiners that have received nothing yet are placed again, and the others are cut.
final class SharedCapture {
    /// Parts kept for joiners; past this, nobody else may join.
    static let replayLimit = 4 * 1024 * 1024
    /// A joiner this far behind holds the upstream reads.
    static let highWaterMark = 512 * 1024

    private struct Joiner {
        var handle: CaptureSubscriberHandle
        var dispatched = 0
        var acknowledged = 0
    }

    let id: UInt64
    let lane: CaptureScheduler.Lane
    private let eventLoop: any EventLoop
    private let scheduler: CaptureScheduler
    private var joiners: [UInt64: Joiner] = [:]
    /// Everything published, while the capture can still be joined.
    private var replay: [HTTPServerResponsePart]? = []
    private var replayBytes = 0
    private var responseStarted = false
    private var over = false
    private var readsHeld = false
    /// Told when joiners fall behind (true) and when they have caught up (false).
    private var holdReads: ((Bool) -> Void)?

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

    /// The source's request is on its way upstream: joining closes after `joinWindow`, and
    /// `holdReads` is told whenever joiners fall behind or catch up.
    func start(joinWindow: Duration, holdReads: @escaping (Bool) -> Void) {
        self.holdReads = holdReads
        eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(joinWindow)) { [self] in closeJoining() }
    }

    /// Adds a joiner: it gets everything published so far, then the rest. A joiner that arrives
    /// after joining closed (the window passed while it was on its way) is turned away to be placed again.
    func subscribe(_ joiner: CaptureSubscriberHandle) {
        guard let replay, !over else {
            joiner.joinRefused()
            return
        }
        joiners[joiner.id] = Joiner(handle: joiner)
        if !replay.isEmpty {
            dispatch(replay, to: joiner.id)
        }
    }

    /// The request that was to start this capture is gone before starting it: anyone who tries to
    /// join is turned away to be placed again.
    func withdraw() {
        replay = nil
        over = true
        for joiner in joiners.values {
            joiner.handle.joinRefused()
        }
        joiners.removeAll()
    }

    /// Removes a joiner (its client left, or its response ended).
    func unsubscribe(_ id: UInt64) {
        joiners[id] = nil
        updateHold()
    }

    /// A joiner wrote `bytes` more to its client.
    func acknowledge(_ id: UInt64, bytes: Int) {
        joiners[id]?.acknowledged += bytes
        updateHold()
    }

    /// One part of the source's response, as the forwarder relays it.
    func publish(_ part: HTTPServerResponsePart) {
        guard !over else { return }
        if case .head = part { responseStarted = true }
        if replay != nil {
            replay?.append(part)
            replayBytes += part.bodyBytes
            if replayBytes > Self.replayLimit {
                closeJoining()
            }
        }
        for id in joiners.keys {
            dispatch([part], to: id)
        }
        if case .end = part {
            finish(cutShort: false)
        } else {
            updateHold()
        }
    }

    /// The source's request ended without a complete response: the lane settles, and the joiners
    /// are placed again if nothing reached them yet, or cut.
    func sourceLeft() {
        guard !over else { return }
        finish(cutShort: true)
        for joiner in joiners.values {
            if responseStarted {
                joiner.handle.cut()
            } else {
                joiner.handle.joinRefused()
            }
        }
        joiners.removeAll()
    }

    private func dispatch(_ parts: [HTTPServerResponsePart], to id: UInt64) {
        guard let joiner = joiners[id] else { return }
        joiners[id]?.dispatched += parts.reduce(0) { $0 + $1.bodyBytes }
        joiner.handle.deliver(parts)
    }

    private func updateHold() {
        let behind = !over && joiners.values.contains { $0.dispatched - $0.acknowledged >= Self.highWaterMark }
        guard behind != readsHeld else { return }
        readsHeld = behind
        holdReads?(behind)
    }

    private func closeJoining() {
        guard replay != nil else { return }
        replay = nil
        replayBytes = 0
        scheduler.stopJoining(id)
    }

    /// The upstream work is over: the lane is free for the next capture. `cutShort`: the upstream
    /// request was closed before its response ended, so the profiler may still be releasing.
    private func finish(cutShort: Bool) {
        closeJoining()
        over = true
        updateHold()
        holdReads = nil
        scheduler.finished(id, cutShort: cutShort)
    }
}

/// A shared capture as other event loops hold it; every call hops to the capture's loop.
struct SharedCaptureHandle: Sendable {
    let eventLoop: any EventLoop
    let capture: NIOLoopBound<SharedCapture>

    func subscribe(_ joiner: CaptureSubscriberHandle) {
        eventLoop.execute { capture.value.subscribe(joiner) }
    }

    func unsubscribe(_ id: UInt64) {
        eventLoop.execute { capture.value.unsubscribe(id) }
    }

    func acknowledge(_ id: UInt64, bytes: Int) {
        eventLoop.execute { capture.value.acknowledge(id, bytes: bytes) }
    }
}

/// What a shared capture delivers to each request that joined it (the capture handler; a seam for
/// tests). Called on the request's event loop.
protocol CaptureSubscriber: AnyObject {
    func captureDelivered(_ parts: [HTTPServerResponsePart])
    /// The response broke off after it had started.
    func captureCut()
    /// The capture could not be joined, or ended before its response started: place the request again.
    func captureJoinRefused()
}

/// A request that joined a shared capture, as the capture holds it; every call hops to the
/// request's loop.
struct CaptureSubscriberHandle: Sendable {
    let id: UInt64
    let eventLoop: any EventLoop
    let subscriber: NIOLoopBound<any CaptureSubscriber>

    func deliver(_ parts: [HTTPServerResponsePart]) {
        eventLoop.execute { subscriber.value.captureDelivered(parts) }
    }

    func cut() {
        eventLoop.execute { subscriber.value.captureCut() }
    }

    func joinRefused() {
        eventLoop.execute { subscriber.value.captureJoinRefused() }
    }
}

extension HTTPServerResponsePart {
    /// The body bytes this part carries.
    var bodyBytes: Int {
        if case .body(.byteBuffer(let buffer)) = self { buffer.readableBytes } else { 0 }
    }
}
