import NIOCore
import NIOHTTP1

/// What an HTTP/1.x connection does around the requests it carries, in one handler after NIO's
/// pipelining handler (which hands over one request at a time):
/// - a request NIO's decoder cannot parse is answered, 431 when its head is too large
///   (`HTTPRequestLimits`), 400 otherwise, and the connection closes (the decoder has stopped, so
///   nothing after the bad bytes is ever read); any response written after that answer, such as the
///   gate's late decision on the same request, is dropped. This stands where NIO's
///   `HTTPServerProtocolErrorHandler` would, with the proxy's error bodies;
/// - a request that did not ask to keep the connection (`Connection: close`, or HTTP/1.0 without
///   `keep-alive`) gets `Connection: close` in its response head, and the connection closes after
///   that response, as Go's server does;
/// - the `ReadHeaderTimeoutHandler` is told when a request head was read and when its response ended.
final class HTTP1ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether the request being answered asked to keep the connection.
    private var keepAlive = true
    /// A response has started and not ended, so no error response can be written any more.
    private var responseInProgress = false
    /// A parse error ended the connection: nothing more is written.
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            keepAlive = head.isKeepAlive
            context.triggerUserOutboundEvent(RequestHeadProgress.headRead, promise: nil)
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !responseInProgress && !failed {
            Self.answer(to: parseError).write(to: context, version: .http1_1, closeConnection: true, isHTTP2: false)
        }
        failed = true
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            responseInProgress = true
            if keepAlive {
                context.write(data, promise: promise)
            } else {
                head.headers.replaceOrAdd(name: "connection", value: "close")
                context.write(wrapOutboundOut(.head(head)), promise: promise)
            }
        case .head, .body:
            context.write(data, promise: promise)
        case .end:
            responseInProgress = false
            if keepAlive {
                context.write(data, promise: promise)
            } else {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                context.write(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
            context.triggerUserOutboundEvent(RequestHeadProgress.responseEnded, promise: nil)
        }
    }

    /// The refusal for a parse error: the error's description names what was wrong, never a header value.
    static func answer(to error: HTTPParserError) -> ProxyError {
        switch error {
        case .headerOverflow:
            .requestHeaderFieldsTooLarge
        default:
            .badRequest("malformed HTTP/1.1 request (\(error.debugDescription))")
        }
    }
}
