import NIOCore
import NIOHTTP1
import NIOHTTP2

/// What the HTTP handlers of a connection tell its `ReadHeaderTimeoutHandler`, as outbound user events.
enum RequestHeadProgress: Sendable {
    /// An HTTP/1.1 request head was read: its deadline is met.
    case headRead
    /// An HTTP/1.1 response ended: the connection waits for the next request, with no deadline.
    case responseEnded
    /// The HTTP/2 connection preface was read: streams are HTTP/2's business from now on.
    case http2PrefaceRead
}

/// `--read-header-timeout`, as Go's `http.Server.ReadHeaderTimeout`: closes a connection whose
/// request head does not arrive in time. The first request's time starts at accept, so it covers the
/// TLS handshake (and, for HTTP/2, the connection preface); a later request's starts at its first
/// byte. A keep-alive connection waiting between requests, and a request body, are not timed.
/// Sits first in the pipeline and sees raw bytes; the HTTP handlers report with `RequestHeadProgress`.
///
/// One timer serves many requests: it is not cancelled when a head arrives, and when it fires it
/// looks at the deadline of the head awaited then (if any) and waits again for what is left, so a
/// keep-alive connection schedules about one timer per timeout period instead of one per request.
final class ReadHeaderTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// A request head is due by this time.
        case awaitingHead(deadline: NIODeadline)
        /// Between a request head and the end of its response.
        case inRequest
        /// Between requests: the next byte starts the clock.
        case idle
        case finished
    }

    private let timeout: TimeAmount
    private var state = State.finished
    /// The timer, while one is scheduled.
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// Added as the connection is accepted, so the first request's time starts here.
    func handlerAdded(context: ChannelHandlerContext) {
        awaitHead(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .idle = state {
            awaitHead(context: context)
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? RequestHeadProgress else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        promise?.succeed()
        if case .finished = state { return }
        switch progress {
        case .headRead:
            state = .inRequest
        case .responseEnded:
            state = .idle
        case .http2PrefaceRead:
            finish()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    private func awaitHead(context: ChannelHandlerContext) {
        let deadline = context.eventLoop.now + timeout
        state = .awaitingHead(deadline: deadline)
        if timer == nil {
            schedule(at: deadline, context: context)
        }
    }

    private func schedule(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        guard case .awaitingHead(let deadline) = state else { return }
        if deadline <= context.eventLoop.now {
            context.close(promise: nil)
        } else {
            schedule(at: deadline, context: context)
        }
    }

    private func finish() {
        state = .finished
        timer?.cancel()
        timer = nil
    }
}

/// Tells the `ReadHeaderTimeoutHandler` that the HTTP/2 preface arrived (the client's first frame
/// came through `NIOHTTP2Handler`), then leaves.
final class HTTP2PrefaceSignal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.triggerUserOutboundEvent(RequestHeadProgress.http2PrefaceRead, promise: nil)
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
