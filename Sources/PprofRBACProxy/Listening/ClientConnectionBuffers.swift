import NIOCore

/// How much a client connection may hold in memory. The upstream is read only while the client's
/// connection is writable, so the high water mark is what one slow reader costs beyond the kernel's
/// socket buffer; reads from clients are small requests.
enum ClientConnectionBuffers {
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 16 * 1024, high: 32 * 1024)
    static let readAllocator = AdaptiveRecvByteBufferAllocator(minimum: 512, initial: 2048, maximum: 16384)
}
