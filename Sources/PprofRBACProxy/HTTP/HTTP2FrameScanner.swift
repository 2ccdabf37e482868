import NIOCore

/// The 9-byte header of one HTTP/2 frame (RFC 9113 §4.1), as it crosses the wire.
struct HTTP2FrameHeader: Sendable, Hashable {
    static let size = 9

    static let data: UInt8 = 0x0
    static let headers: UInt8 = 0x1
    static let rstStream: UInt8 = 0x3
    static let settings: UInt8 = 0x4
    static let goAway: UInt8 = 0x7

    /// END_STREAM on DATA and HEADERS; ACK on SETTINGS and PING.
    static let endStreamOrAck: UInt8 = 0x1

    var length: Int
    var type: UInt8
    var flags: UInt8
    var streamID: UInt32

    init(length: Int, type: UInt8, flags: UInt8 = 0, streamID: UInt32 = 0) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }

    /// Reads a header from its 9 bytes.
    init<Bytes: Collection<UInt8>>(_ bytes: Bytes) where Bytes.Index == Int {
        let b = bytes.startIndex
        length = Int(bytes[b]) << 16 | Int(bytes[b + 1]) << 8 | Int(bytes[b + 2])
        type = bytes[b + 3]
        flags = bytes[b + 4]
        streamID = (UInt32(bytes[b + 5]) << 24 | UInt32(bytes[b + 6]) << 16 | UInt32(bytes[b + 7]) << 8 | UInt32(bytes[b + 8])) & 0x7fff_ffff
    }

    func has(_ flag: UInt8) -> Bool { flags & flag != 0 }

    /// Appends the 9 bytes of this header to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        buffer.writeInteger(UInt16(truncatingIfNeeded: length))
        buffer.writeInteger(type)
        buffer.writeInteger(flags)
        buffer.writeInteger(streamID)
    }
}

/// Follows the frame boundaries of one direction of an HTTP/2 connection through bytes that arrive
/// in pieces of any size: skips a prefix (the client preface), then reports every frame header and
/// where its payload lies in the piece at hand. Reads headers only; payloads are skipped.
struct HTTP2FrameScanner {
    /// One frame whose header completed in a piece. Offsets are from the piece's reader index.
    struct Frame {
        var header: HTTP2FrameHeader
        /// Where the header starts in this piece; nil when it began in an earlier piece.
        var headerOffset: Int?
        /// Where the payload starts (the header's end), possibly the piece's end.
        var payloadOffset: Int
        /// Whether the whole payload is in this piece.
        var payloadIsComplete: Bool
    }

    private var prefixLeft: Int
    private var payloadLeft = 0
    /// The first bytes of a header that a piece ended in.
    private var partialHeader: [UInt8] = []

    /// `skipping` bytes come before the first frame (24 for the client preface).
    init(skipping prefixLength: Int = 0) {
        prefixLeft = prefixLength
    }

    /// The client connection preface (RFC 9113 §3.4) that comes before a client's first frame.
    static let clientPrefaceLength = 24

    /// Reports, in order, each frame whose header completes in `piece`, the next bytes of the stream.
    mutating func scan(_ piece: ByteBuffer, _ visit: (Frame) -> Void) {
        let bytes = piece.readableBytesView
        var index = bytes.startIndex
        func offset(_ i: Int) -> Int { i - bytes.startIndex }
        let skipped = min(prefixLeft, bytes.count)
        prefixLeft -= skipped
        index += skipped
        while index < bytes.endIndex {
            if payloadLeft > 0 {
                let skip = min(payloadLeft, bytes.endIndex - index)
                payloadLeft -= skip
                index += skip
                continue
            }
            let header: HTTP2FrameHeader
            let headerOffset: Int?
            if partialHeader.isEmpty && bytes.endIndex - index >= HTTP2FrameHeader.size {
                header = HTTP2FrameHeader(bytes[index..<(index + HTTP2FrameHeader.size)])
                headerOffset = offset(index)
                index += HTTP2FrameHeader.size
            } else {
                // A header split across pieces: it completes in this one only if it began in an earlier one.
                let take = min(HTTP2FrameHeader.size - partialHeader.count, bytes.endIndex - index)
                partialHeader.append(contentsOf: bytes[index..<(index + take)])
                index += take
                guard partialHeader.count == HTTP2FrameHeader.size else { return }
                header = HTTP2FrameHeader(partialHeader)
                headerOffset = nil
                partialHeader.removeAll(keepingCapacity: true)
            }
            payloadLeft = header.length
            visit(Frame(
                header: header, headerOffset: headerOffset, payloadOffset: offset(index),
                payloadIsComplete: bytes.endIndex - index >= header.length
            ))
        }
    }
}
