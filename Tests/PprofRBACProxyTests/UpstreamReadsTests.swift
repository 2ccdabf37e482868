import NIOCore
import Testing

@testable import PprofRBACProxy

@Suite("UpstreamReads: what one upstream read may hold")
struct UpstreamReadsTests {
    @Test("one read, framed as an HTTP/1.1 chunk and sealed as TLS records, fits NIOSSL's 16 KiB ciphertext buffer")
    func oneReadFitsOneCiphertextBuffer() {
        var allocator = UpstreamReads.allocator
        // Grown as far as reads that fill every buffer can grow it.
        for _ in 0..<32 {
            _ = allocator.record(actualReadBytes: allocator.nextBufferSize() ?? 0)
        }
        let largestRead = allocator.buffer(allocator: ByteBufferAllocator()).capacity
        let chunkFraming = "\(String(largestRead, radix: 16))\r\n".utf8.count + "\r\n".utf8.count
        // Per record, at most: a 5-byte header, an 8-byte explicit nonce and a 16-byte tag (TLS 1.2 AES-GCM).
        let sealed = largestRead + chunkFraming + 3 * (5 + 8 + 16)
        #expect(sealed <= 16 * 1024, "a \(largestRead)-byte read seals to \(sealed) bytes")
        #expect(UpstreamReads.perReadEvent == 1)
    }
}
