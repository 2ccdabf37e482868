import NIOCore
import NIOHTTP1

/// Answers a request NIO's HTTP/1.1 decoder cannot parse: 431 when its head is too large
/// (`HTTPRequestLimits`), 400 otherwise, then the connection closes (the decoder has stopped, so
/// nothing after the bad bytes is ever read). Stands where NIO's `HTTPServerProtocolErrorHandler`
/// would, with the proxy's error bodies.
final class HTTP1ParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A response has started and not ended, so no error response can be written any more.
    private var responseInProgress = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !responseInProgress {
            Self.answer(to: parseError).write(to: context, version: .http1_1, closeConnection: true, isHTTP2: false)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
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
