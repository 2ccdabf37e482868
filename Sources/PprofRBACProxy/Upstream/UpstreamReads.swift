import NIOCore

/// How much is read from an upstream connection before it is relayed. A response is relayed as it is
/// read, and what one read event takes is encrypted for the client in one piece, into a ciphertext
/// buffer the client's TLS connection keeps for its lifetime. With NIO's defaults (up to four 64 KiB
/// reads) that buffer grows to 128 KiB per connection; one read of at most 16 KiB, one TLS record's
/// worth, keeps it at 32 KiB.
enum UpstreamReads {
    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 4096, maximum: 16384)
    static let perReadEvent: UInt = 1
}
