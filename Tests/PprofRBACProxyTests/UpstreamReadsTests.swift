import NIOCore
import Testing

@testable import PprofRBACProxy

@Suite("UpstreamReads: what one upstream read may hold")
struct UpstreamReadsTests {
    @Test("a small read, framed as an HTTP/1.1 chunk and sealed as TLS records, fits NIOSSL's 16 KiB ciphertext buffer")
    func smallReadFitsOneCiphertextBuffer() {
        let reads = UpstreamReads()
        let read = reads.buffer(allocator: ByteBufferAllocator()).capacity
        #expect(read == UpstreamReads.small && reads.nextBufferSize() == read)
        let chunkFraming = "\(String(read, radix: 16))\r\n".utf8.count + "\r\n".utf8.count
        // Per record, at most: a 5-byte header, an 8-byte explicit nonce and a 16-byte tag (TLS 1.2 AES-GCM).
        let sealed = read + chunkFraming + 3 * (5 + 8 + 16)
        #expect(sealed <= 16 * 1024, "a \(read)-byte read seals to \(sealed) bytes")
        #expect(UpstreamReads.perReadEvent == 1)
    }

    @Test("paced streams (a 64 KiB burst every 0.6 s, or 4 KiB every 10 ms) stay at small reads, however long they go on")
    func pacedStreamsStaySmall() {
        var bursts = UpstreamReads()
        var now = ContinuousClock.now
        for _ in 0..<100 {
            for _ in 0..<(64 * 1024 / UpstreamReads.small) {
                #expect(bursts.record(actualReadBytes: UpstreamReads.small, at: now) == false)
            }
            #expect(bursts.record(actualReadBytes: 9, at: now) == false)
            now += .milliseconds(600)
        }
        #expect(bursts.size == UpstreamReads.small)

        var trickle = UpstreamReads()
        for _ in 0..<1_000 {
            _ = trickle.record(actualReadBytes: 4096, at: now)
            now += .milliseconds(10)
        }
        #expect(trickle.size == UpstreamReads.small)
    }

    @Test("256 KiB within 10 ms make reads large; a 10 ms window with less makes them small again")
    func fastStreamsGrowAndShrink() {
        var reads = UpstreamReads()
        let start = ContinuousClock.now
        for read in 1..<(UpstreamReads.fastBytes / UpstreamReads.small) {
            #expect(reads.record(actualReadBytes: UpstreamReads.small, at: start + .microseconds(50 * read)) == false)
        }
        #expect(reads.size == UpstreamReads.small)
        #expect(reads.record(actualReadBytes: UpstreamReads.small, at: start + .milliseconds(4)) == true, "256 KiB in 4 ms")
        #expect(reads.size == UpstreamReads.large)
        #expect(reads.buffer(allocator: ByteBufferAllocator()).capacity == UpstreamReads.large)
        // The next windows are fast too: reads stay large.
        for read in 0..<20 {
            _ = reads.record(actualReadBytes: UpstreamReads.large, at: start + .milliseconds(10 + read))
        }
        // A window that starts with a short read after a fast one: still large, until it has passed
        // with that little in it.
        _ = reads.record(actualReadBytes: 100, at: start + .milliseconds(40))
        #expect(reads.size == UpstreamReads.large)
        _ = reads.record(actualReadBytes: 100, at: start + .milliseconds(55))
        #expect(reads.size == UpstreamReads.small)
    }
}
