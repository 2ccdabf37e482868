import Logging
import NIOCore
import NIOHTTP1
import RequestPolicy

/// Puts pprof captures through the capture scheduler, which decides when a CPU profile or trace
/// may go upstream: it starts a shared capture of its own, joins an identical one that just
/// started, or waits its turn. A request that starts a capture goes on to the forwarder like every
/// other request, and its response is teed to the joiners; a joiner is answered from that tee and
/// never reaches the forwarder. A delta profile only counts against its user's limit. A client
/// that asks (`Pprof-Capture-Progress: 1`) is told where its request stands in `102 Processing`
/// answers (`CaptureProgress`).
final class CaptureHandler: ChannelDuplexHandler, CaptureSubscriber {
    typealias InboundIn = AuthorizedRequestPart
    typealias InboundOut = AuthorizedRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The pause before sending a capture again that met a profiler still being released.
    static let retryPause: Duration = .milliseconds(50)

    /// A CPU profile or trace request being served.
    private struct Capture {
        var head: HTTPRequestHead
        var authorized: AuthorizedRequest
        var request: CaptureScheduler.Request
        var user: String
        /// The client asked for `102 Processing` answers saying where the request stands.
        var reportsProgress: Bool
    }

    private enum State {
        case idle
        /// A request that goes on to the forwarder; `user` holds a capture slot until it ends.
        case passing(user: String?)
        /// Refused before forwarding: the rest of the request is dropped.
        case refused
        /// Waiting for the running capture of its lane; `shared` is its own capture, made but not started.
        case waiting(Capture, SharedCapture, since: ContinuousClock.Instant, timeout: Scheduled<Void>)
        /// Forwarded, its response teed to `shared`; `retrying` while Go's 500 from a profiler still
        /// being released is read and dropped, to send the request again.
        case leading(Capture, SharedCapture, retrying: Bool)
        /// Answered from another request's shared capture.
        case joined(Capture, SharedCaptureHandle, joinerID: UInt64, responseStarted: Bool)
    }

    private let scheduler: CaptureScheduler
    private let isHTTP2: Bool
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var state = State.idle
    /// Whether the current request's `.end` has arrived.
    private var requestEnded = false

    init(scheduler: CaptureScheduler, isHTTP2: Bool, logger: Logger) {
        self.scheduler = scheduler
        self.isHTTP2 = isHTTP2
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .end = part { requestEnded = true }
        switch state {
        case .idle:
            guard case .head(let head, let authorized) = part else { return }
            requestEnded = false
            place(head, authorized: authorized, data: data, context: context)
        case .passing, .leading:
            context.fireChannelRead(data)
        case .refused:
            if case .end = part { state = .idle }
        case .waiting, .joined:
            // Capture requests are GET or HEAD without a body (the guardrails saw to it).
            break
        }
    }

    private func place(_ head: HTTPRequestHead, authorized: AuthorizedRequest, data: NIOAny, context: ChannelHandlerContext) {
        let user = authorized.user?.name ?? "-"
        guard let capture = PprofCapture(path: authorized.target.path, rawQuery: authorized.target.rawQuery) else {
            state = .passing(user: nil)
            context.fireChannelRead(data)
            return
        }
        if let refusal = scheduler.admitUser(user) {
            refuse(refusal, version: head.version, context: context)
            return
        }
        let lane: CaptureScheduler.Lane
        switch capture {
        case .delta:
            state = .passing(user: user)
            context.fireChannelRead(data)
            return
        case .cpuProfile:
            lane = .cpu
        case .trace:
            lane = .trace
        }
        let request = CaptureScheduler.Request(
            lane: lane, key: "\(head.method.rawValue) \(authorized.target.path) \(capture.seconds)", seconds: capture.seconds
        )
        let reportsProgress = CaptureProgress.isRequested(by: head.headers[CaptureProgress.requestField])
        admit(
            Capture(head: head, authorized: authorized, request: request, user: user, reportsProgress: reportsProgress),
            context: context
        )
    }

    private func admit(_ capture: Capture, context: ChannelHandlerContext) {
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let id = scheduler.newID()
        let shared = SharedCapture(id: id, lane: capture.request.lane, eventLoop: context.eventLoop, scheduler: scheduler)
        let admission = scheduler.admit(capture.request, id: id, capture: shared.handle) {
            eventLoop.execute { bound.value.turnCame() }
        }
        switch admission {
        case .start:
            lead(capture, shared, participation: .started, context: context)
        case .join(let running):
            let joinerID = scheduler.newID()
            state = .joined(capture, running, joinerID: joinerID, responseStarted: false)
            running.subscribe(CaptureSubscriberHandle(
                id: joinerID, eventLoop: eventLoop, subscriber: NIOLoopBound(self as any CaptureSubscriber, eventLoop: eventLoop)
            ))
            context.triggerUserOutboundEvent(CaptureScheduledEvent(participation: .joined), promise: nil)
            report(.joined, of: capture, context: context)
        case .wait:
            let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(scheduler.configuration.queueTimeout)) {
                bound.value.waitTimedOut(id)
            }
            state = .waiting(capture, shared, since: .now, timeout: timeout)
            report(.queued(position: max(1, scheduler.occupancy(capture.request.lane).waiting)), of: capture, context: context)
            logger.debug("capture waiting", metadata: [
                "lane": "\(capture.request.lane.rawValue)", "seconds": "\(capture.request.seconds)",
                "waiting": "\(scheduler.occupancy(capture.request.lane).waiting)",
            ])
        case .refuse(let error):
            scheduler.userFinished(capture.user)
            refuse(error, version: capture.head.version, context: context)
        }
    }

    /// Sends the request on to the forwarder, its response teed to `shared`.
    private func lead(
        _ capture: Capture, _ shared: SharedCapture, participation: ExchangeRecord.CaptureParticipation,
        context: ChannelHandlerContext
    ) {
        state = .leading(capture, shared, retrying: false)
        context.triggerUserOutboundEvent(CaptureScheduledEvent(participation: participation), promise: nil)
        if case .queued(let wait) = participation {
            report(.started(waited: wait), of: capture, context: context)
        } else {
            report(.started(waited: nil), of: capture, context: context)
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        shared.start(joinWindow: scheduler.configuration.joinWindow) { held in bound.value.holdUpstreamReads(held) }
        forward(capture, context: context)
    }

    /// Tells a client that asked where its request stands, in a `102 Processing` answer.
    private func report(_ progress: CaptureProgress, of capture: Capture, context: ChannelHandlerContext) {
        guard capture.reportsProgress else { return }
        context.writeAndFlush(wrapOutboundOut(.head(progress.interimHead(version: capture.head.version))), promise: nil)
    }

    /// Hands the request to the forwarder as a read burst of its own: a turn that came, a join
    /// refused and a resend all happen outside the client's reads, and the forwarder flushes the
    /// upstream connection at the end of a burst.
    private func forward(_ capture: Capture, context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(.head(capture.head, capture.authorized)))
        if requestEnded {
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        }
        context.fireChannelReadComplete()
    }

    /// The running capture of this request's lane ended: start this one.
    private func turnCame() {
        guard case .waiting(let capture, let shared, let since, let timeout) = state else { return }
        timeout.cancel()
        guard let context, context.channel.isActive else {
            // Nobody is left to take the turn; pass it on.
            state = .idle
            shared.withdraw()
            scheduler.finished(shared.id)
            scheduler.userFinished(capture.user)
            return
        }
        lead(capture, shared, participation: .queued(wait: .now - since), context: context)
    }

    private func waitTimedOut(_ id: UInt64) {
        guard case .waiting(let capture, let shared, _, _) = state, shared.id == id, let context, scheduler.abandonWait(id)
        else { return }
        scheduler.userFinished(capture.user)
        refuse(
            .tooManyRequests("waited \(scheduler.configuration.queueTimeout) for the \(capture.request.lane)", retryAfterSeconds: 5),
            version: capture.head.version, context: context
        )
    }

    private func refuse(_ error: ProxyError, version: HTTPVersion, context: ChannelHandlerContext) {
        state = requestEnded ? .idle : .refused
        error.write(to: context, version: version, closeConnection: false, isHTTP2: isHTTP2)
    }

    /// Joiners fell behind (or caught up): the forwarder stops (or resumes) reading the upstream.
    private func holdUpstreamReads(_ held: Bool) {
        guard case .leading = state, let context else { return }
        context.fireUserInboundEventTriggered(UpstreamReadHold(held: held))
    }

    // MARK: The forwarded response of a leading request

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        switch state {
        case .passing(let user):
            if case .end = part {
                if let user { scheduler.userFinished(user) }
                state = .idle
            }
        case .leading(let capture, let shared, var retrying):
            if case .head(let head) = part, head.status == .internalServerError, scheduler.isSettling(capture.request.lane) {
                retrying = true
                state = .leading(capture, shared, retrying: true)
            }
            guard !retrying else {
                // Go's 500 from a profiler still being released: read it to its end, then send again.
                if case .end = part { sendAgainAfterPause() }
                promise?.succeed()
                return
            }
            shared.publish(part)
            if case .end = part {
                scheduler.userFinished(capture.user)
                state = .idle
            }
        default:
            break
        }
        context.write(data, promise: promise)
    }

    private func sendAgainAfterPause() {
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(Self.retryPause)) {
            let handler = bound.value
            guard case .leading(let capture, let shared, true) = handler.state, let context = handler.context else { return }
            handler.state = .leading(capture, shared, retrying: false)
            handler.forward(capture, context: context)
        }
    }

    /// The forwarder aborts a response it had started (the upstream broke off).
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if case .leading = state {
            sourceLeft()
        }
        context.close(mode: mode, promise: promise)
    }

    /// A leading request ends without a complete response.
    private func sourceLeft() {
        guard case .leading(let capture, let shared, _) = state else { return }
        shared.sourceLeft()
        scheduler.userFinished(capture.user)
        state = .idle
    }

    // MARK: Deliveries to a joiner

    func captureDelivered(_ parts: [HTTPServerResponsePart]) {
        guard case .joined(let capture, let shared, let joinerID, var responseStarted) = state, let context else { return }
        for part in parts {
            switch part {
            case .head(var head):
                responseStarted = true
                state = .joined(capture, shared, joinerID: joinerID, responseStarted: true)
                head.version = capture.head.version
                context.write(wrapOutboundOut(.head(head)), promise: nil)
            case .body:
                let bytes = part.bodyBytes
                context.write(wrapOutboundOut(part)).assumeIsolated().whenComplete { _ in
                    shared.acknowledge(joinerID, bytes: bytes)
                }
            case .end:
                context.writeAndFlush(wrapOutboundOut(part), promise: nil)
                shared.unsubscribe(joinerID)
                scheduler.userFinished(capture.user)
                state = .idle
                return
            }
        }
        if responseStarted {
            context.flush()
        }
    }

    func captureCut() {
        guard case .joined(let capture, _, _, _) = state, let context else { return }
        scheduler.userFinished(capture.user)
        state = .idle
        context.flush()
        context.close(promise: nil)
    }

    /// The capture this request joined could not be joined any more by the time it got there, or
    /// ended before its response started.
    func captureJoinRefused() {
        guard case .joined(let capture, _, _, false) = state, let context else { return }
        admit(capture, context: context)
    }

    // MARK: The client leaving

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .idle, .refused:
            break
        case .passing(let user):
            if let user { scheduler.userFinished(user) }
        case .waiting(let capture, let shared, _, let timeout):
            timeout.cancel()
            if !scheduler.abandonWait(shared.id) {
                // The turn is already on its way: hand the lane on.
                shared.withdraw()
                scheduler.finished(shared.id)
            }
            scheduler.userFinished(capture.user)
            logger.debug("capture waiter left", metadata: [
                "lane": "\(capture.request.lane.rawValue)", "seconds": "\(capture.request.seconds)",
                "waiting": "\(scheduler.occupancy(capture.request.lane).waiting)",
            ])
        case .leading:
            sourceLeft()
        case .joined(let capture, let shared, let joinerID, _):
            shared.unsubscribe(joinerID)
            scheduler.userFinished(capture.user)
        }
        state = .idle
        context.fireChannelInactive()
    }
}
