/// A profile as it travels over HTTP and sits in files: gzipped `profile.proto`, as Go writes
/// it (an uncompressed message is read too, as pprof reads it).
package enum ProfileFile {
    /// The most bytes a profile may take once uncompressed.
    package static let defaultSizeLimit = 16 << 20

    /// Decodes `bytes`, gzipped or not.
    package static func decode(
        _ bytes: [UInt8], sizeLimit: Int = defaultSizeLimit, memoryLimit: Int = Profile.defaultMemoryLimit
    ) throws(ProfileError) -> Profile {
        let message: [UInt8]
        if Gzip.isGzip(bytes) {
            message = try Gzip.decompress(bytes, limit: sizeLimit)
        } else {
            guard bytes.count <= sizeLimit else { throw .tooLarge("it holds more than \(sizeLimit) bytes") }
            message = bytes
        }
        return try Profile(decoding: message, memoryLimit: memoryLimit)
    }

    /// `profile` gzipped, as Go serves it.
    package static func encode(_ profile: Profile) -> [UInt8] {
        Gzip.compress(profile.encoded())
    }
}
