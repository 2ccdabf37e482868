import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import PprofRBACProxy

/// The proxy's HTTP/1.1 connection handlers on an `EmbeddedChannel`, as `HTTPConnectionPipeline` sets them up.
enum HTTP1TestConnection {
    /// The handlers with `responder` where the gate would be and `front` (if any) where TLS would be.
    static func make(responder: any ChannelHandler = OKResponder(), front: (any ChannelHandler)? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: front)
        let serving = NIOLoopBound(responder, eventLoop: channel.eventLoop)
        try HTTPConnectionPipeline(settings: ServingTLSSettings()) { _, _ in [serving.value] }
            .configureHTTP1(on: channel, clientCertificates: [])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()
        return channel
    }

    /// Answers every request with an empty 200 once the request has ended.
    final class OKResponder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
