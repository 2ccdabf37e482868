import NIOCore
import NIOSSL
import NIOTLS

/// Reports how the TLS handshake with the upstream ended, so a connection is handed out only once
/// it is verified: succeeds `handshake` when NIOSSL reports completion, fails it when the handshake
/// fails, times out or the connection closes first. Then it steps out of the pipeline.
final class UpstreamTLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Why the handshake did not complete.
    struct HandshakeFailure: Error, CustomStringConvertible {
        let description: String
    }

    private var handshake: EventLoopPromise<Void>?
    private let timeout: TimeAmount
    /// The name or address the certificate must be valid for, for error messages.
    private let upstreamName: String
    private var timeoutTask: Scheduled<Void>?

    init(handshake: EventLoopPromise<Void>, timeout: TimeAmount, upstreamName: String) {
        self.handshake = handshake
        self.timeout = timeout
        self.upstreamName = upstreamName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            startTimer(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(HandshakeFailure(description: "the connection closed during the TLS handshake")))
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context: context)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            finish(.success(()))
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason =
            if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
                "the upstream's certificate is not valid for \(upstreamName)"
            } else {
                "\(error)"
            }
        finish(.failure(HandshakeFailure(description: "TLS handshake failed: \(reason)")))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(HandshakeFailure(description: "the upstream closed the connection during the TLS handshake")))
        context.fireChannelInactive()
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard timeoutTask == nil, handshake != nil else { return }
        let timeout = self.timeout
        timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            finish(.failure(HandshakeFailure(description: "no TLS handshake within \(timeout)")))
            context.close(promise: nil)
        }
    }

    private func finish(_ result: Result<Void, any Error>) {
        timeoutTask?.cancel()
        timeoutTask = nil
        guard let handshake else { return }
        self.handshake = nil
        handshake.completeWith(result)
    }
}
