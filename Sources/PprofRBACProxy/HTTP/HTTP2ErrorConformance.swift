import NIOCore

/// Makes the errors NIOHTTP2 answers a client's HTTP/2 mistakes with what RFC 9113 says they are.
/// Sits between TLS and `NIOHTTP2Handler` and sees the frames go by (headers only):
/// - A connection error (§5.4.1) ends with one GOAWAY naming the highest stream actually opened
///   (NIOHTTP2 names 2^31-1, the graceful-shutdown value), and the connection closed
///   `closeDelay` later, or sooner if the client closes it (NIOHTTP2 leaves it open).
/// - HEADERS on a closed stream (ended on both sides, or reset) is a connection error STREAM_CLOSED
///   (§5.1; NIOHTTP2 says PROTOCOL_ERROR), answered here. After a reset of the proxy's, §5.1 would
///   rather have late frames ignored; NIOHTTP2 ignores DATA then, but a header block cannot be
///   skipped without decoding it, so HEADERS end the connection then too.
/// - HEADERS on a stream half-closed (remote), after the client's END_STREAM, is a stream error
///   STREAM_CLOSED (§5.1; NIOHTTP2 resets it with PROTOCOL_ERROR).
final class HTTP2ErrorConformance: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// How long a connection lingers after its error GOAWAY, as Go's does. Meanwhile whatever the
    /// client still sends is read and dropped: closing with unread bytes would reset the connection,
    /// and a reset can discard the GOAWAY before the client has read it.
    static let closeDelay = TimeAmount.seconds(1)
    /// How many known-closed streams may be remembered before the closed ones are forgotten.
    static let rememberedStreams = 256

    private static let protocolError: UInt32 = 0x1
    private static let streamClosed: UInt32 = 0x5

    private let streams: HTTP2ClientStreams
    private var inbound = HTTP2FrameScanner(skipping: HTTP2FrameScanner.clientPrefaceLength)
    private var outbound = HTTP2FrameScanner()
    /// Client streams the client has ended (END_STREAM), while NIOHTTP2 may still have them open.
    private var endedByClient: Set<UInt32> = []
    /// Half-closed (remote) streams that got HEADERS: NIOHTTP2's reset of them says STREAM_CLOSED.
    private var resetAsStreamClosed: Set<UInt32> = []
    /// A connection error was answered: what arrives is dropped, and the connection is closing.
    private var failed = false

    init(streams: HTTP2ClientStreams) {
        self.streams = streams
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var piece = unwrapInboundIn(data)
        var passed = 0
        inbound.scan(piece) { frame in
            let header = frame.header
            guard !failed, header.streamID % 2 == 1 else { return }
            if header.type == HTTP2FrameHeader.headers {
                // What these HEADERS mean depends on what NIOHTTP2 made of the frames before them.
                let offset = frame.headerOffset ?? 0
                if offset > passed, let before = piece.readSlice(length: offset - passed) {
                    context.fireChannelRead(wrapInboundOut(before))
                    passed = offset
                }
                guard !failed, context.channel.isActive else { return }
                let id = header.streamID
                if streams.wasOpened(id) && !streams.open.contains(id) {
                    failConnection(context: context, code: Self.streamClosed)
                    return
                }
                if streams.open.contains(id) && endedByClient.contains(id) {
                    resetAsStreamClosed.insert(id)
                }
            } else if header.type != HTTP2FrameHeader.data {
                return
            }
            if header.has(HTTP2FrameHeader.endStreamOrAck) {
                endedByClient.insert(header.streamID)
            }
        }
        guard !failed else { return }
        context.fireChannelRead(wrapInboundOut(piece))
        forgetClosedStreams()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        var endsConnection = false
        outbound.scan(buffer) { frame in
            let header = frame.header
            guard frame.payloadIsComplete else { return }
            let payload = buffer.readerIndex + frame.payloadOffset
            switch header.type {
            case HTTP2FrameHeader.rstStream where header.length >= 4:
                if resetAsStreamClosed.remove(header.streamID) != nil,
                    buffer.getInteger(at: payload, as: UInt32.self) == Self.protocolError
                {
                    buffer.setInteger(Self.streamClosed, at: payload)
                }
            case HTTP2FrameHeader.goAway where header.length >= 8:
                if buffer.getInteger(at: payload + 4, as: UInt32.self) != 0 {
                    buffer.setInteger(streams.highestOpened, at: payload)
                    endsConnection = true
                }
            default:
                break
            }
        }
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        if endsConnection {
            closeAfterDelay(context: context)
        }
    }

    /// Answers a connection error found here with GOAWAY and closes the connection.
    private func failConnection(context: ChannelHandlerContext, code: UInt32) {
        var goAway = context.channel.allocator.buffer(capacity: HTTP2FrameHeader.size + 8)
        HTTP2FrameHeader(length: 8, type: HTTP2FrameHeader.goAway).write(to: &goAway)
        goAway.writeInteger(streams.highestOpened)
        goAway.writeInteger(code)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(goAway)), promise: nil)
        closeAfterDelay(context: context)
    }

    private func closeAfterDelay(context: ChannelHandlerContext) {
        failed = true
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.closeDelay) {
            loopBound.value.close(promise: nil)
        }
    }

    /// Drops what is known of streams that are not open (closed, or never opened), so that the sets
    /// stay about as small as the open streams.
    private func forgetClosedStreams() {
        guard endedByClient.count + resetAsStreamClosed.count > Self.rememberedStreams else { return }
        endedByClient = endedByClient.filter { streams.open.contains($0) }
        resetAsStreamClosed = resetAsStreamClosed.filter { streams.open.contains($0) }
    }
}
