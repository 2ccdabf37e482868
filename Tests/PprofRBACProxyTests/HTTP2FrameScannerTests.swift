import NIOCore
import Testing

@testable import PprofRBACProxy

@Suite("HTTP2FrameScanner: frame boundaries through pieces of any size")
struct HTTP2FrameScannerTests {
    static let frames = [
        WireFrame.settingsFrame(), WireFrame.request(stream: 1),
        WireFrame(type: WireFrame.data, flags: WireFrame.endStream, stream: 1, payload: Array(repeating: 7, count: 300)),
        WireFrame.reset(stream: 3), WireFrame(type: WireFrame.ping, payload: Array(repeating: 0, count: 8)),
    ]

    @Test("after the preface, every frame header is found once, with its payload's place", arguments: [Int.max, 1, 2, 9, 10, 100])
    func pieces(pieceSize: Int) {
        let bytes = WireFrame.preface + Self.frames.flatMap(\.bytes)
        var scanner = HTTP2FrameScanner(skipping: HTTP2FrameScanner.clientPrefaceLength)
        var found: [HTTP2FrameHeader] = []
        var start = 0
        while start < bytes.count {
            let piece = ByteBuffer(bytes: bytes[start..<min(start + pieceSize, bytes.count)])
            scanner.scan(piece) { frame in
                found.append(frame.header)
                if let offset = frame.headerOffset {
                    #expect(offset + HTTP2FrameHeader.size == frame.payloadOffset)
                }
                #expect(frame.payloadIsComplete == (piece.readableBytes - frame.payloadOffset >= frame.header.length))
            }
            start += pieceSize == .max ? bytes.count : pieceSize
        }
        let expected = Self.frames.map {
            HTTP2FrameHeader(length: $0.payload.count, type: $0.type, flags: $0.flags, streamID: $0.stream)
        }
        #expect(found == expected)
    }

    @Test("a header written and read back is the same")
    func roundTrip() {
        let header = HTTP2FrameHeader(length: 0x12_3456, type: 7, flags: 0x25, streamID: 0x7fff_fffe)
        var buffer = ByteBuffer()
        header.write(to: &buffer)
        #expect(buffer.readableBytes == HTTP2FrameHeader.size)
        #expect(HTTP2FrameHeader(Array(buffer.readableBytesView)) == header)
    }
}
