import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads small local files (kubeconfigs, certificates, tokens) with errors that say why a read failed.
package enum LocalFile {
    /// Why a file could not be read; `reason` is the operating system's explanation.
    package struct ReadError: Error, Sendable, Hashable, CustomStringConvertible {
        package var path: String
        package var reason: String

        package var description: String { "cannot read \(path): \(reason)" }
    }

    /// The largest file accepted; every file this proxy reads is a few kilobytes.
    static let sizeLimit = 4 * 1024 * 1024

    /// The whole content of the file at `path`.
    static func contents(atPath path: String) throws(ReadError) -> [UInt8] {
        var content: [UInt8] = []
        try forEachChunk(atPath: path) { (chunk) throws(ReadError) in
            content.append(contentsOf: chunk)
            if content.count > sizeLimit {
                throw ReadError(path: path, reason: "larger than \(sizeLimit / (1024 * 1024)) MiB")
            }
        }
        return content
    }

    /// Reads the file at `path` in pieces of at most 16 KiB, handing each to `body` in turn, so a
    /// caller that needs no more than a piece at a time holds no more.
    static func forEachChunk(
        atPath path: String, _ body: (ArraySlice<UInt8>) throws(ReadError) -> Void
    ) throws(ReadError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ReadError(path: path, reason: systemErrorText(errno))
        }
        defer { close(descriptor) }

        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw ReadError(path: path, reason: systemErrorText(code))
            }
            if count == 0 { return }
            try body(chunk[0..<count])
        }
    }

    /// What tells one version of a file from the next: device, inode, size and modification time.
    /// A file replaced by a rename (the kubelet's symlink swap of a projected token included) or
    /// rewritten gets another; nil when the file cannot be looked at.
    struct Version: Sendable, Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int64
        var modifiedNanoseconds: Int64
    }

    /// The version of the file at `path` (following symbolic links), or nil.
    static func version(atPath path: String) -> Version? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Version(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modifiedSeconds: Int64(status.st_mtim.tv_sec), modifiedNanoseconds: Int64(status.st_mtim.tv_nsec)
        )
    }

    /// A file's content as text without surrounding white space, as client-go reads token files.
    package static func readTrimmedText(atPath path: String) throws(ReadError) -> String {
        let text = String(decoding: try contents(atPath: path), as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ReadError(path: path, reason: "the file is empty") }
        return trimmed
    }

    private static func systemErrorText(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        return String(cString: message)
    }
}
