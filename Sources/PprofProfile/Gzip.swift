import CZlib

/// gzip streams as pprof writes and reads them, through the system's zlib.
package enum Gzip {
    /// Whether `bytes` start as a gzip stream does.
    package static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// What `compressed` holds (one gzip member or several, as Go's reader takes them), or an
    /// error once it would be more than `limit` bytes.
    package static func decompress(_ compressed: [UInt8], limit: Int) throws(ProfileError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .notGzip("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let result: Result<Void, ProfileError> = compressed.withUnsafeBytes { input in
            guard let base = input.bindMemory(to: Bytef.self).baseAddress else { return .failure(.notGzip("it is empty")) }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(input.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBytes { buffer in
                    stream.next_out = buffer.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = uInt(buffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, buffer.count - Int(stream.avail_out))
                }
                guard output.count + produced <= limit else {
                    return .failure(.tooLarge("it holds more than \(limit) bytes"))
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    // Another member may follow.
                    guard stream.avail_in > 0 else { return .success(()) }
                    guard inflateReset(&stream) == Z_OK else { return .failure(.notGzip("zlib could not go on")) }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return .failure(.notGzip("it is cut off"))
                default:
                    return .failure(.notGzip("it is corrupt"))
                }
            }
        }
        try result.get()
        return output
    }

    /// `bytes` as one gzip member, at zlib's `level` (1, the fastest, is what Go's runtime uses
    /// for profiles). Empty only when zlib cannot allocate its state: the output buffer is
    /// `deflateBound`'s size, which always holds the whole stream.
    package static func compress(_ bytes: [UInt8], level: Int32 = 1) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(
            &stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)
        ) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        // deflateBound leaves room for zlib's header, not gzip's 18 bytes.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        let written: Int = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { buffer in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = buffer.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(buffer.count)
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return 0 }
                return buffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }
}
