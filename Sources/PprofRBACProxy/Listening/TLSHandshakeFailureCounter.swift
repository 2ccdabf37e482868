import NIOCore
import NIOSSL
import NIOTLS

/// Sits right after a server's TLS handler and counts a connection whose handshake failed (plain
/// HTTP on the TLS port, an unknown CA, no shared cipher or version, a peer gone mid-handshake);
/// removes itself once the handshake completes.
final class TLSHandshakeFailureCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// Which listener the connection came to: `proxy`, `endpoints` or `metrics`.
    private let listener: String
    private let metrics: ProxyMetrics

    init(listener: String, metrics: ProxyMetrics) {
        self.listener = listener
        self.metrics = metrics
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if case TLSUserEvent.handshakeCompleted = event {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = if case NIOSSLError.handshakeFailed(.sslError(let errors)) = error, errors == [.eofDuringHandshake] {
            "eof"
        } else {
            "error"
        }
        metrics.tlsHandshakeFailed(listener: listener, reason: reason)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        context.fireErrorCaught(error)
    }
}
