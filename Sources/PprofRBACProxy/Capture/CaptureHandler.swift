import Logging
import NIOCore
import NIOHTTP1
import RequestPolicy

/// Puts pprof captures through the capture scheduler. A CPU profile or trace starts its own shared
/// capture, joins an identical one that just started, or waits its turn; a delta profile only
/// counts against its user's limit and goes on to the forwarder like every other request.
final class CaptureHandler: ChannelDuplexHandler, CaptureSubscriber {
    typealias InboundIn = AuthorizedRequestPart
    typealias InboundOut = AuthorizedRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A CPU profile or trace request being served.
    private struct Capture {
        var head: HTTPRequestHead
        var upstreamHead: HTTPRequestHead
        var request: CaptureScheduler.Request
        var user: String
    }

    private enum State {
        case idle
        /// A request that goes on to the forwarder; `user` holds a capture slot until it ends.
        case passing(user: String?)
        /// Refused before forwarding: the rest of the request is dropped.
        case refused
        /// Waiting for the running capture of its lane; `shared` is its own capture, made but not started.
        case waiting(Capture, SharedCapture, since: ContinuousClock.Instant, timeout: Scheduled<Void>)
        /// Taking part in a shared capture.
        case subscribed(Capture, SharedCaptureHandle, subscriberID: UInt64, responseStarted: Bool)
    }

    private let scheduler: CaptureScheduler
    private let upstream: any UpstreamConnector
    private let target: UpstreamTarget
    private let identityHeaders: IdentityHeaders
    private let isHTTP2: Bool
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var state = State.idle
    /// Whether the current request's `.end` has arrived.
    private var requestEnded = false

    init(
        scheduler: CaptureScheduler, upstream: any UpstreamConnector, target: UpstreamTarget,
        identityHeaders: IdentityHeaders, isHTTP2: Bool, logger: Logger
    ) {
        self.scheduler = scheduler
        self.upstream = upstream
        self.target = target
        self.identityHeaders = identityHeaders
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
        case .passing:
            context.fireChannelRead(data)
        case .refused:
            if case .end = part { state = .idle }
        case .waiting, .subscribed:
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
        let upstreamHead = ForwardedHeaders.upstreamHead(
            for: head, authorized: authorized, target: target, identity: identityHeaders,
            clientAddress: context.channel.remoteAddress
        )
        let request = CaptureScheduler.Request(
            lane: lane, key: "\(head.method.rawValue) \(authorized.target.path) \(capture.seconds)", seconds: capture.seconds
        )
        admit(Capture(head: head, upstreamHead: upstreamHead, request: request, user: user), context: context)
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
            let subscriberID = scheduler.newID()
            state = .subscribed(capture, running, subscriberID: subscriberID, responseStarted: false)
            running.subscribe(subscriberHandle(subscriberID, context: context))
            context.triggerUserOutboundEvent(CaptureScheduledEvent(participation: .joined), promise: nil)
        case .wait:
            let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(scheduler.configuration.queueTimeout)) {
                bound.value.waitTimedOut(id)
            }
            state = .waiting(capture, shared, since: .now, timeout: timeout)
            logger.debug("capture waiting", metadata: [
                "lane": "\(capture.request.lane.rawValue)", "seconds": "\(capture.request.seconds)",
                "waiting": "\(scheduler.occupancy(capture.request.lane).waiting)",
            ])
        case .refuse(let error):
            scheduler.userFinished(capture.user)
            refuse(error, version: capture.head.version, context: context)
        }
    }

    /// Starts the shared capture with this request as its first subscriber.
    private func lead(
        _ capture: Capture, _ shared: SharedCapture, participation: ExchangeRecord.CaptureParticipation,
        context: ChannelHandlerContext
    ) {
        let subscriberID = scheduler.newID()
        state = .subscribed(capture, shared.handle, subscriberID: subscriberID, responseStarted: false)
        context.triggerUserOutboundEvent(CaptureScheduledEvent(participation: participation), promise: nil)
        shared.subscribe(subscriberHandle(subscriberID, context: context))
        shared.start(head: capture.upstreamHead, upstream: upstream, joinWindow: scheduler.configuration.joinWindow)
    }

    private func subscriberHandle(_ id: UInt64, context: ChannelHandlerContext) -> CaptureSubscriberHandle {
        CaptureSubscriberHandle(
            id: id, eventLoop: context.eventLoop, subscriber: NIOLoopBound(self as any CaptureSubscriber, eventLoop: context.eventLoop)
        )
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

    // MARK: Shared capture deliveries

    func captureDelivered(_ parts: [HTTPClientResponsePart]) {
        guard case .subscribed(let capture, let shared, let subscriberID, var responseStarted) = state, let context else { return }
        for part in parts {
            switch part {
            case .head(let head):
                responseStarted = true
                state = .subscribed(capture, shared, subscriberID: subscriberID, responseStarted: true)
                let relayed = HTTPResponseHead(
                    version: capture.head.version, status: head.status, headers: ForwardedHeaders.response(head.headers)
                )
                context.write(wrapOutboundOut(.head(relayed)), promise: nil)
            case .body(let body):
                let bytes = body.readableBytes
                context.write(wrapOutboundOut(.body(.byteBuffer(body)))).assumeIsolated().whenComplete { _ in
                    shared.acknowledge(subscriberID, bytes: bytes)
                }
            case .end(let trailers):
                context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
                shared.unsubscribe(subscriberID)
                scheduler.userFinished(capture.user)
                state = .idle
                return
            }
        }
        if responseStarted {
            context.flush()
        }
    }

    func captureFailed(_ error: UpstreamError) {
        guard case .subscribed(let capture, let shared, let subscriberID, let responseStarted) = state, let context else { return }
        shared.unsubscribe(subscriberID)
        scheduler.userFinished(capture.user)
        state = .idle
        if responseStarted {
            context.flush()
            context.close(promise: nil)
        } else {
            ProxyError.badGateway(error.description).write(
                to: context, version: capture.head.version, closeConnection: false, isHTTP2: isHTTP2
            )
        }
    }

    /// The capture this request joined could not be joined any more by the time it got there.
    func captureJoinRefused() {
        guard case .subscribed(let capture, _, _, false) = state, let context else { return }
        admit(capture, context: context)
    }

    // MARK: Responses from the forwarder, and the client leaving

    /// Releases the capture slot of a forwarded request when its response ends.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .passing(let user) = state, case .end = unwrapOutboundIn(data) {
            if let user { scheduler.userFinished(user) }
            state = .idle
        }
        context.write(data, promise: promise)
    }

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
        case .subscribed(let capture, let shared, let subscriberID, _):
            shared.unsubscribe(subscriberID)
            scheduler.userFinished(capture.user)
        }
        state = .idle
        context.fireChannelInactive()
    }
}
