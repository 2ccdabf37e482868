import NIOCore
import NIOEmbedded
import NIOHTTP2

@testable import PprofRBACProxy

/// One frame as it crossed the wire in a test.
struct WireFrame: Equatable, CustomStringConvertible {
    var type: UInt8
    var flags: UInt8 = 0
    var stream: UInt32 = 0
    var payload: [UInt8] = []

    static let data: UInt8 = 0x0, headers: UInt8 = 0x1, rstStream: UInt8 = 0x3, settings: UInt8 = 0x4
    static let ping: UInt8 = 0x6, goAway: UInt8 = 0x7, windowUpdate: UInt8 = 0x8, continuation: UInt8 = 0x9
    static let endStream: UInt8 = 0x1, ack: UInt8 = 0x1, endHeaders: UInt8 = 0x4

    /// The client connection preface.
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    var bytes: [UInt8] {
        let n = payload.count
        var bytes: [UInt8] = [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), type, flags]
        bytes += [UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
        return bytes + payload
    }

    /// The first four bytes of the payload: RST_STREAM's code, GOAWAY's last stream id.
    var firstWord: UInt32? { word(at: 0) }
    /// GOAWAY's error code.
    var secondWord: UInt32? { word(at: 4) }

    private func word(at offset: Int) -> UInt32? {
        guard payload.count >= offset + 4 else { return nil }
        return payload[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    var description: String {
        "frame(type: \(type), flags: \(flags), stream: \(stream), \(payload.count) bytes, first word: \(firstWord.map(String.init) ?? "-"))"
    }

    /// A client SETTINGS frame with no settings, or its acknowledgement.
    static func settingsFrame(ack: Bool = false) -> WireFrame {
        WireFrame(type: settings, flags: ack ? Self.ack : 0)
    }

    /// A GET of `path` on `stream`, its header block made of literal fields (RFC 7541 §6.2.2, no
    /// Huffman coding), with `extra` fields after the pseudo-headers.
    static func request(stream: UInt32, path: String = "/debug/pprof/cmdline", extra: [(String, String)] = [], endStream: Bool = true) -> WireFrame {
        var block: [UInt8] = []
        for (name, value) in [(":method", "GET"), (":scheme", "https"), (":authority", "proxy"), (":path", path)] + extra {
            block.append(0x00)
            appendString(name, to: &block)
            appendString(value, to: &block)
        }
        return WireFrame(type: headers, flags: endHeaders | (endStream ? Self.endStream : 0), stream: stream, payload: block)
    }

    /// This HEADERS frame as HEADERS and CONTINUATION frames of at most `fragment` bytes of header block
    /// each (16 KiB: the frame size every peer takes before SETTINGS say more).
    func split(fragment: Int = 1 << 14) -> [WireFrame] {
        var frames: [WireFrame] = []
        var start = 0
        repeat {
            let end = min(start + fragment, payload.count)
            let last = end == payload.count
            let first = start == 0
            frames.append(WireFrame(
                type: first ? type : Self.continuation,
                flags: (first ? flags & ~Self.endHeaders : 0) | (last ? Self.endHeaders : 0),
                stream: stream, payload: Array(payload[start..<end])))
            start = end
        } while start < payload.count
        return frames
    }

    static func reset(stream: UInt32, code: UInt32 = 0x8) -> WireFrame {
        WireFrame(type: rstStream, stream: stream, payload: bigEndian(code))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    private static func appendString(_ string: String, to block: inout [UInt8]) {
        let bytes = Array(string.utf8)
        var length = bytes.count
        if length < 127 {
            block.append(UInt8(length))
        } else {
            block.append(127)
            length -= 127
            while length >= 128 {
                block.append(UInt8(length & 0x7f) | 0x80)
                length >>= 7
            }
            block.append(UInt8(length))
        }
        block += bytes
    }

    /// Splits `bytes` into frames.
    static func parse(_ bytes: [UInt8]) -> [WireFrame] {
        var frames: [WireFrame] = []
        var index = 0
        while bytes.count - index >= 9 {
            let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            guard bytes.count - index - 9 >= length else { break }
            let stream = bytes[(index + 5)..<(index + 9)].reduce(0) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
            frames.append(WireFrame(
                type: bytes[index + 3], flags: bytes[index + 4], stream: stream,
                payload: Array(bytes[(index + 9)..<(index + 9 + length)])))
            index += 9 + length
        }
        return frames
    }
}

/// What the test server does with each request stream.
enum HTTP2TestStreamBehaviour: Sendable {
    /// Answers 200 with an empty body once the request has ended.
    case answer
    /// Never answers.
    case hold
    /// Resets the stream as soon as its head arrives.
    case reset
}

/// Answers request streams as `HTTP2TestStreamBehaviour` says.
final class HTTP2TestStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let behaviour: HTTP2TestStreamBehaviour

    init(_ behaviour: HTTP2TestStreamBehaviour) {
        self.behaviour = behaviour
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .headers(let headers) = unwrapInboundIn(data) else { return }
        switch behaviour {
        case .answer where headers.endStream:
            let response = HTTP2Frame.FramePayload.Headers(headers: [":status": "200"], endStream: true)
            context.writeAndFlush(wrapOutboundOut(.headers(response)), promise: nil)
        case .reset:
            context.writeAndFlush(wrapOutboundOut(.rstStream(.cancel)), promise: nil)
        case .answer, .hold:
            break
        }
    }
}

/// Holds back every write's promise (a client that has stopped reading), so the writes never complete.
final class StalledWrites: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private(set) var held: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let promise { held.append(promise) }
        context.write(data, promise: nil)
    }
}

/// A server HTTP/2 connection on an `EmbeddedChannel`, built by `HTTP2ServerHandlers` as the proxy
/// builds it (or, with `corrections: false`, NIOHTTP2 alone): frames go in as bytes, and the
/// server's frames come out parsed.
struct HTTP2TestConnection {
    let channel: EmbeddedChannel
    let caught = CaughtErrors()

    init(
        _ behaviour: HTTP2TestStreamBehaviour = .answer, corrections: Bool = true, front: (any ChannelHandler)? = nil
    ) throws {
        channel = EmbeddedChannel()
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HTTPRequestLimits.http2HeaderListSize),
        ]
        connection.maximumSequentialContinuationFrames = HTTPRequestLimits.http2MaximumContinuationFrames
        let delegate = HTTP2NoStreamDelegate()
        var handlers = HTTP2ServerHandlers.make(
            on: channel, connection: connection, stream: .init(), next: delegate
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2TestStreamHandler(behaviour))
            }
        }
        if !corrections {
            handlers = handlers.filter { $0 is NIOHTTP2Handler }
        }
        if let front {
            handlers.insert(front, at: 0)
        }
        try channel.pipeline.syncOperations.addHandlers(handlers + [caught])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
    }

    /// Sends `frames` in one piece, after the preface and an empty SETTINGS frame if `preface`.
    func send(_ frames: [WireFrame], preface: Bool = false) throws {
        try sendBytes((preface ? WireFrame.preface + WireFrame.settingsFrame().bytes : []) + frames.flatMap(\.bytes))
    }

    /// Sends `bytes` in pieces of `pieceSize`.
    func sendBytes(_ bytes: [UInt8], pieceSize: Int = .max) throws {
        var start = 0
        while start < bytes.count, channel.isActive {
            let end = min(start + pieceSize, bytes.count)
            try channel.writeInbound(ByteBuffer(bytes: bytes[start..<end]))
            start = end
        }
    }

    /// The frames the server has written since the last call.
    func received() throws -> [WireFrame] {
        var bytes: [UInt8] = []
        while let data = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = data {
                bytes += buffer.readableBytesView
            }
        }
        return WireFrame.parse(bytes)
    }
}

/// Ends the connection's pipeline: NIOHTTP2 reports every error it answered as `errorCaught`, which
/// an `EmbeddedChannel` would otherwise throw from the next write; in the proxy they reach the
/// pipeline's tail and are dropped.
final class CaughtErrors: ChannelInboundHandler {
    typealias InboundIn = Any

    private(set) var errors: [any Error] = []

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }
}

/// A stream delegate that does nothing (the test has no connection manager).
struct HTTP2NoStreamDelegate: NIOHTTP2StreamDelegate {
    func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {}
    func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {}
}
