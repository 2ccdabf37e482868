import NIOCore

/// Makes NIOHTTP2 apply the proxy's own SETTINGS from the client's first frame on, as Go's server
/// does, instead of from the client's acknowledgement. Clients send their first request before
/// they have read the proxy's SETTINGS (curl does), and until the acknowledgement NIOHTTP2 holds
/// header blocks to its 16 KiB default: a larger request head got a connection error, not an
/// answer. So right after the client's first SETTINGS frame NIOHTTP2 is handed an acknowledgement,
/// and the client's own, when it comes, is taken out of the stream. Every setting the proxy sends
/// limits what it receives, and applying one early only accepts more, except
/// SETTINGS_MAX_CONCURRENT_STREAMS, which Go also enforces from the start. Sits between TLS and
/// `NIOHTTP2Handler` and leaves once the client's acknowledgement has gone by.
final class HTTP2SettingsAtOnce: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Step {
        /// The client's first frame, which must be SETTINGS, has not ended yet.
        case awaitingClientSettings
        /// Acknowledged on the client's behalf; the client's own acknowledgement is still to come.
        case awaitingClientAcknowledgement
    }

    /// An empty SETTINGS frame with ACK.
    private static let acknowledgement = HTTP2FrameHeader(
        length: 0, type: HTTP2FrameHeader.settings, flags: HTTP2FrameHeader.endStreamOrAck
    )

    private var step = Step.awaitingClientSettings
    private var prefaceLeft = HTTP2FrameScanner.clientPrefaceLength
    /// What is left of the payload of the frame being read.
    private var payloadLeft = 0
    /// Whether that frame is the client's first SETTINGS.
    private var inClientSettings = false
    /// The start of a frame header a piece ended in, held back until it is known not to be the acknowledgement.
    private var heldBack: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var piece = unwrapInboundIn(data)
        if var held = heldBack {
            heldBack = nil
            held.writeBuffer(&piece)
            piece = held
        }
        // Bytes before `scanned` are checked; those before the reader index are passed on.
        var scanned = 0
        func pass() {
            if scanned > 0, let bytes = piece.readSlice(length: scanned) {
                context.fireChannelRead(wrapInboundOut(bytes))
            }
            scanned = 0
        }
        while scanned < piece.readableBytes {
            let available = piece.readableBytes - scanned
            if prefaceLeft > 0 || payloadLeft > 0 {
                let skip = min(max(prefaceLeft, payloadLeft), available)
                if prefaceLeft > 0 { prefaceLeft -= skip } else { payloadLeft -= skip }
                scanned += skip
                if prefaceLeft == 0 && payloadLeft == 0 && inClientSettings {
                    acknowledgeClientSettings(context: context, pass: pass)
                }
                continue
            }
            guard available >= HTTP2FrameHeader.size else {
                pass()
                heldBack = piece
                return
            }
            let start = piece.readerIndex + scanned
            guard let bytes = piece.getBytes(at: start, length: HTTP2FrameHeader.size) else { return }
            let header = HTTP2FrameHeader(bytes)
            let isSettings = header.type == HTTP2FrameHeader.settings
            let isAcknowledgement = isSettings && header.has(HTTP2FrameHeader.endStreamOrAck)
            switch step {
            case .awaitingClientSettings:
                guard isSettings && !isAcknowledgement else {
                    // Not a client preface NIOHTTP2 will accept: it answers that itself.
                    leave(context: context, passing: piece)
                    return
                }
                inClientSettings = true
            case .awaitingClientAcknowledgement where isAcknowledgement && header.length == 0:
                pass()
                piece.moveReaderIndex(forwardBy: HTTP2FrameHeader.size)
                leave(context: context, passing: piece)
                return
            case .awaitingClientAcknowledgement:
                break
            }
            scanned += HTTP2FrameHeader.size
            payloadLeft = header.length
            if payloadLeft == 0 && inClientSettings {
                acknowledgeClientSettings(context: context, pass: pass)
            }
        }
        pass()
    }

    /// Passes the client's SETTINGS on and hands NIOHTTP2 the acknowledgement of its own.
    private func acknowledgeClientSettings(context: ChannelHandlerContext, pass: () -> Void) {
        pass()
        inClientSettings = false
        step = .awaitingClientAcknowledgement
        var acknowledgement = context.channel.allocator.buffer(capacity: HTTP2FrameHeader.size)
        Self.acknowledgement.write(to: &acknowledgement)
        context.fireChannelRead(wrapInboundOut(acknowledgement))
    }

    private func leave(context: ChannelHandlerContext, passing rest: ByteBuffer) {
        if rest.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(rest))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
