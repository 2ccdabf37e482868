import NIOCore
import NIOHTTP2

/// Sits behind `NIOHTTP2Handler` on an upstream HTTP/2 connection and reports when the connection
/// must take no new streams: the upstream sent GOAWAY, or an HTTP/2 error occurred on it. Streams
/// already open carry on; the connection closes once they are done.
final class HTTP2ConnectionMonitor: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    /// Told once, on the connection's event loop.
    var onRetire: (() -> Void)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway = unwrapInboundIn(data).payload {
            retire()
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Stream errors arrive here too (their streams are told separately); either way a fresh
        // connection is the safe place for new streams.
        retire()
    }

    private func retire() {
        let onRetire = self.onRetire
        self.onRetire = nil
        onRetire?()
    }
}
