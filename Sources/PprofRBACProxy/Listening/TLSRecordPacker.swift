import NIOCore

/// Packs what an HTTP/1.1 connection writes between two flushes into full TLS records. NIOSSL seals
/// each write into records of its own, and NIO's HTTP/1.1 encoder writes a response as several
/// buffers: the head, then per chunk its size line, its data and a CRLF. Unpacked, every chunk cost
/// two tiny records and a small response two records, each of which the client reads and decrypts
/// on its own (curl: a poll and a read per record). Packed, only a flush's last record is short.
/// Only the bytes that straddle a record boundary are copied: at most one record's worth per write.
final class TLSRecordPacker: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// TLS's largest record plaintext, NIOSSL's and BoringSSL's too.
    static let recordSize = 16 * 1024

    /// Bytes written since the last flush that do not fill a record yet, and the promise of the
    /// write that ends them.
    private var pending: ByteBuffer?
    /// Whether `pending` is this handler's own record buffer, which later writes are appended to.
    private var pendingIsOwn = false
    private var pendingPromise: EventLoopPromise<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data) else {
            writePending(context: context)
            context.write(data, promise: promise)
            return
        }
        let pendingBytes = pending?.readableBytes ?? 0
        if pendingBytes + buffer.readableBytes <= Self.recordSize {
            hold(buffer, promise: promise, context: context)
            return
        }
        if let held = pending, let head = buffer.readSlice(length: Self.recordSize - pendingBytes) {
            // The first record: what was held, filled up from this write.
            pending = nil
            pendingIsOwn = false
            context.write(wrapOutboundOut(.byteBuffer(record(held, then: head, context: context))), promise: pendingPromise)
            pendingPromise = nil
        }
        // Whole records go now; a short last one waits for what follows.
        let tailBytes = buffer.readableBytes % Self.recordSize
        guard tailBytes > 0, let records = buffer.readSlice(length: buffer.readableBytes - tailBytes) else {
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
            return
        }
        if records.readableBytes > 0 {
            context.write(wrapOutboundOut(.byteBuffer(records)), promise: nil)
        }
        pending = buffer
        pendingPromise = promise
    }

    func flush(context: ChannelHandlerContext) {
        writePending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writePending(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        writePending(context: context)
    }

    /// Adds a write that fits in the record being filled.
    private func hold(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        if pendingIsOwn {
            pending?.writeImmutableBuffer(buffer)
        } else if let held = pending {
            pending = record(held, then: buffer, context: context)
            pendingIsOwn = true
        } else {
            pending = buffer
        }
        // The held bytes leave in one write, with the first promise; the later ones follow it.
        if let first = pendingPromise {
            if let promise { first.futureResult.cascade(to: promise) }
        } else {
            pendingPromise = promise
        }
    }

    /// A record buffer of this handler's own holding `first` and then `second`.
    private func record(_ first: ByteBuffer, then second: ByteBuffer, context: ChannelHandlerContext) -> ByteBuffer {
        var record = context.channel.allocator.buffer(capacity: Self.recordSize)
        record.writeImmutableBuffer(first)
        record.writeImmutableBuffer(second)
        return record
    }

    private func writePending(context: ChannelHandlerContext) {
        guard let held = pending else { return }
        pending = nil
        pendingIsOwn = false
        let promise = pendingPromise
        pendingPromise = nil
        context.write(wrapOutboundOut(.byteBuffer(held)), promise: promise)
    }
}
