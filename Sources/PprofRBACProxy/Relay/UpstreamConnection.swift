import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection to the upstream, or one HTTP/2 stream behind
/// `HTTP2FramePayloadToHTTP1ClientCodec`. Relays the current exchange's response to its delegate and
/// reads from its channel only while the delegate has room for more.
final class UpstreamConnection: ChannelDuplexHandler, UpstreamExchange {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private weak var delegate: (any UpstreamResponseDelegate)?
    private var exchangesStarted = 0
    /// Whether the transport under this channel (the HTTP/2 connection under a stream) carried
    /// exchanges before, and so may have gone stale.
    private let transportWasReused: Bool
    private var responseHeadReceived = false
    private var readPending = false
    /// Told when the connection closes, so the pool forgets it.
    var onClose: ((UpstreamConnection) -> Void)?
    /// Told when an exchange ends with the connection still usable; without it (an HTTP/2 stream)
    /// the channel is closed when its exchange ends.
    var onReusable: ((UpstreamConnection) -> Void)?

    init(transportWasReused: Bool = false) {
        self.transportWasReused = transportWasReused
    }

    var isActive: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }
    var wasReused: Bool { exchangesStarted > 1 || transportWasReused }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func begin(delegate: any UpstreamResponseDelegate) {
        self.delegate = delegate
        exchangesStarted += 1
        responseHeadReceived = false
    }

    func write(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func resumeReading() {
        guard readPending, let context else { return }
        readPending = false
        context.read()
    }

    func finish(reusable: Bool) {
        delegate = nil
        // An idle connection must keep reading, or the pool would not notice the upstream closing it.
        resumeReading()
        if reusable, isActive, let onReusable {
            onReusable(self)
        } else {
            close()
        }
    }

    /// Closes the socket; a running upstream handler sees its client leave at once.
    func close() {
        delegate = nil
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let delegate else {
            // Bytes on an idle connection: nothing can be relayed safely any more.
            context.close(promise: nil)
            return
        }
        let part = unwrapInboundIn(data)
        if case .head = part {
            responseHeadReceived = true
        }
        delegate.upstreamDidReceive(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if let delegate, !delegate.acceptsResponseData {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed(
                responseHeadReceived ? .closedMidResponse : .closedBeforeResponse(reused: wasReused)
            )
        }
        onClose?(self)
        onClose = nil
        onReusable = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
