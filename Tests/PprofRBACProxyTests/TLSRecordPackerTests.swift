import NIOCore
import NIOEmbedded
import Testing

@testable import PprofRBACProxy

@Suite("TLSRecordPacker: what leaves between two flushes fills whole TLS records")
struct TLSRecordPackerTests {
    @Test("a full upstream read relayed as one chunk (size line, data, CRLF) leaves as 17 records, not 18")
    func fullReadFillsSixteenRecords() throws {
        let channel = try packedChannel()
        let data = bytes(UpstreamReads.large, seed: 1)
        let sizeLine = "\(String(UpstreamReads.large, radix: 16))\r\n"
        let promises = try write([Array(sizeLine.utf8), data, Array("\r\n".utf8)], to: channel)
        let written = try flushed(from: channel)
        let total = sizeLine.utf8.count + data.count + 2
        #expect(written.map(\.count) == [16_384, 15 * 16_384, total - 16 * 16_384])
        #expect(Array(written.joined()) == Array(sizeLine.utf8) + data + Array("\r\n".utf8))
        for promise in promises {
            try promise.wait()
        }
        _ = try channel.finish()
    }

    @Test("a small response's head and body, and a paced stream's 4 KiB chunk, leave as one write each")
    func smallWritesShareOneRecord() throws {
        let channel = try packedChannel()
        let head = Array("HTTP/1.1 200 OK\r\ncontent-length: 57\r\n\r\n".utf8)
        let body = bytes(57, seed: 2)
        _ = try write([head, body], to: channel)
        #expect(try flushed(from: channel) == [head + body])

        let chunk = bytes(UpstreamReads.small, seed: 3)
        _ = try write([Array("1000\r\n".utf8), chunk, Array("\r\n".utf8)], to: channel)
        #expect(try flushed(from: channel) == [Array("1000\r\n".utf8) + chunk + Array("\r\n".utf8)])
        _ = try channel.finish()
    }

    @Test("any sequence of writes leaves in order, unchanged, with every write but a flush's last a whole number of records")
    func anyWritesKeepTheirBytes() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<50 {
            let channel = try packedChannel()
            let sizes = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                [0, 1, 2, 7, 300, 4096, 16_383, 16_384, 16_385, 40_000, 262_128].randomElement(using: &generator) ?? 1
            }
            let parts = sizes.enumerated().map { bytes($0.element, seed: UInt8(truncatingIfNeeded: round + $0.offset)) }
            let promises = try write(parts, to: channel)
            let written = try flushed(from: channel)
            #expect(Array(written.joined()) == Array(parts.joined()), "sizes \(sizes)")
            #expect(written.dropLast().allSatisfy { $0.count % TLSRecordPacker.recordSize == 0 }, "sizes \(sizes)")
            #expect(promises.allSatisfy { (try? $0.wait()) != nil })
            _ = try channel.finish()
        }
    }

    @Test("held bytes still leave, before the close, when the connection closes without a flush")
    func closeWritesWhatIsHeld() throws {
        let channel = try packedChannel()
        let recorder = OrderRecorder()
        try channel.pipeline.syncOperations.addHandler(recorder, position: .first)
        channel.write(ByteBuffer(bytes: [1, 2, 3]), promise: nil)
        channel.close(promise: nil)
        #expect(recorder.events == ["write 3", "close"])
    }

    private func packedChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(TLSRecordPacker())
        return channel
    }

    private func write(_ parts: [[UInt8]], to channel: EmbeddedChannel) throws -> [EventLoopFuture<Void>] {
        let futures = parts.map { part in channel.write(ByteBuffer(bytes: part)) }
        channel.flush()
        return futures
    }

    private func flushed(from channel: EmbeddedChannel) throws -> [[UInt8]] {
        var written: [[UInt8]] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            written.append(Array(buffer.readableBytesView))
        }
        return written
    }

    private func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) &+ seed }
    }
}

/// Notes, in front of the packer, the writes and the close it passes on.
private final class OrderRecorder: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    private(set) var events: [String] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .byteBuffer(let buffer) = unwrapOutboundIn(data) {
            events.append("write \(buffer.readableBytes)")
        }
        context.write(data, promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        events.append("close")
        context.close(mode: mode, promise: promise)
    }
}
