import NIOCore
import NIOHTTP1

/// Answers a request NIO's HTTP/1.1 decoder cannot parse: 431 when its head is too large
/// (`HTTPRequestLimits`), 400 otherwise, then the connection closes (the decoder has stopped, so
/// nothing after the bad bytes is ever read). Any response written after that answer, such as the
/// gate's decision on the same request arriving late, is dropped. Stands where NIO's
/// `HTTPServerProtocolErrorHandler` would, with the proxy's error bodies.
final class HTTP1ParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A response has started and not ended, so no error response can be written any more.
    private var responseInProgress = false
    /// A parse error ended the connection: nothing more is written.
    private var failed = false

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
        case .head(let head) where head.status.code >= 200:
            responseInProgress = true
        case .head, .body:
            break
        case .end:
            responseInProgress = false
        }
        context.write(data, promise: promise)
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
