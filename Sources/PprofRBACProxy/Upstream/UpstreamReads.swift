import NIOCore

/// How much is read from an upstream connection before it is relayed. A response is relayed as it is
/// read, and what one read event takes is encrypted for the client in one piece, into a ciphertext
/// buffer of 16 KiB that the client's TLS connection keeps for its lifetime and grows as needed.
/// With NIO's defaults (up to four 64 KiB reads) it grows to 128 KiB per connection; one read of
/// 16 KiB still overflows it by the record's header and tag, to 32 KiB. One read of at most 8 KiB
/// keeps it at 16 KiB: 1,000 paced streams peak at 68 MiB instead of 87 (docs/performance.md).
enum UpstreamReads {
    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 4096, maximum: 8192)
    static let perReadEvent: UInt = 1
}
