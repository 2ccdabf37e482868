import NIOCore

/// How much is read from an upstream connection at a time: 4 KiB, and 256 KiB while a response
/// streams in at 25 MB/s or more.
///
/// A response is relayed as it is read, and what one read event takes is encrypted for the client
/// in one piece, into the ciphertext buffer the client's TLS connection keeps at its largest size;
/// the read buffer, too, stays with its upstream connection. A 4 KiB read is one page of read
/// buffer, and framed as an HTTP/1.1 chunk and sealed as TLS records it touches little more than a
/// page of NIOSSL's 16 KiB buffer, so the 1,000 paced streams of Parca-like scrapers (100 KB/s
/// each) cost about that each. A response arriving faster (256 KiB within 10 ms: 1 GiB streams,
/// large heap profiles) is read 256 KiB at a time, a 64th of the read events, flushes and socket
/// writes per byte (the TLS records of one read leave in one write); reads are small again after a
/// 10 ms window with less (docs/performance.md).
struct UpstreamReads: RecvByteBufferAllocator {
    static let small = 4 * 1024
    static let large = 256 * 1024
    /// What must arrive within `window` for reads to be large.
    static let fastBytes = 256 * 1024
    static let window: Duration = .milliseconds(10)
    /// One read per read event, so that each is relayed and flushed before the next.
    static let perReadEvent: UInt = 1

    /// The size of the next read.
    private(set) var size = small
    private var windowStart: ContinuousClock.Instant?
    private var windowBytes = 0

    func buffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(capacity: size)
    }

    func nextBufferSize() -> Int? {
        size
    }

    mutating func record(actualReadBytes: Int) -> Bool {
        record(actualReadBytes: actualReadBytes, at: .now)
    }

    /// Counts a read that returned `bytes` at `now`; true when the next read is larger.
    mutating func record(actualReadBytes bytes: Int, at now: ContinuousClock.Instant) -> Bool {
        if let start = windowStart, now - start < Self.window {
            windowBytes += bytes
        } else {
            if windowStart != nil, windowBytes < Self.fastBytes {
                size = Self.small
            }
            windowStart = now
            windowBytes = bytes
        }
        guard size == Self.small, windowBytes >= Self.fastBytes else { return false }
        size = Self.large
        return true
    }
}
