import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Completes its promise when the TLS handshake has completed, fails it when the connection ends
/// first (a promise completes once: later results are ignored).
final class HandshakeSignal: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    /// A channel that never connected is closed without becoming inactive.
    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    /// The peer's certificate once the handshake of `channel` (which has a `HandshakeSignal`) has completed.
    static func peerCertificate(of channel: any Channel) async throws -> Certificate? {
        let signal = try await channel.pipeline.handler(type: HandshakeSignal.self).get()
        try await signal.promise.futureResult.get()
        guard let peer = try await channel.nioSSL_peerCertificate().get() else { return nil }
        return try Certificate(derEncoded: try peer.toDERBytes())
    }
}
