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
final class ReadHeaderTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// A request head is due before the scheduled close.
        case awaitingHead(Scheduled<Void>)
        /// Between a request head and the end of its response.
        case inRequest
        /// Between requests: the next byte starts the clock.
        case idle
        case finished
    }

    private let timeout: TimeAmount
    private var state = State.finished

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// Added as the connection is accepted, so the first request's time starts here.
    func handlerAdded(context: ChannelHandlerContext) {
        state = .awaitingHead(scheduleClose(context: context))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadline()
        state = .finished
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .idle = state {
            state = .awaitingHead(scheduleClose(context: context))
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        state = .finished
        context.fireChannelInactive()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? RequestHeadProgress else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        promise?.succeed()
        if case .finished = state { return }
        cancelDeadline()
        switch progress {
        case .headRead:
            state = .inRequest
        case .responseEnded:
            state = .idle
        case .http2PrefaceRead:
            state = .finished
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    private func scheduleClose(context: ChannelHandlerContext) -> Scheduled<Void> {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    private func cancelDeadline() {
        if case .awaitingHead(let scheduled) = state {
            scheduled.cancel()
        }
    }
}

/// Tells the `ReadHeaderTimeoutHandler` when an HTTP/1.1 request head was read and when its response
/// ended. Sits after NIO's pipelining handler, which hands over one request at a time.
final class HTTP1RequestProgressSignal: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            context.triggerUserOutboundEvent(RequestHeadProgress.headRead, promise: nil)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ended = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if ended {
            context.triggerUserOutboundEvent(RequestHeadProgress.responseEnded, promise: nil)
        }
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
