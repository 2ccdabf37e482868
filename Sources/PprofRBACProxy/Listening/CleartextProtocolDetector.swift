import NIOCore

/// On a plain-text connection (`--insecure-listen-address`), tells HTTP/2 with prior knowledge
/// (h2c) from HTTP/1.1 by the client's first bytes, then installs the matching handlers and leaves.
final class CleartextProtocolDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The HTTP/2 connection preface (RFC 9113 §3.4).
    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let configureHTTP1: (ChannelHandlerContext) throws -> Void
    private let configureHTTP2: (ChannelHandlerContext) throws -> Void
    private var received: ByteBuffer?

    /// The closures add their handlers after this one (`.after(context.handler)`).
    init(
        configureHTTP1: @escaping (ChannelHandlerContext) throws -> Void,
        configureHTTP2: @escaping (ChannelHandlerContext) throws -> Void
    ) {
        self.configureHTTP1 = configureHTTP1
        self.configureHTTP2 = configureHTTP2
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var received {
            received.writeBuffer(&bytes)
            self.received = received
        } else {
            received = bytes
        }
        guard let received else { return }
        let prefix = received.readableBytesView.prefix(Self.http2Preface.count)
        let isHTTP2 = prefix.elementsEqual(Self.http2Preface.prefix(prefix.count))
        guard !isHTTP2 || prefix.count == Self.http2Preface.count else { return }
        do {
            try (isHTTP2 ? configureHTTP2 : configureHTTP1)(context)
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        self.received = nil
        context.fireChannelRead(wrapInboundOut(received))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
