#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Gives back the pages of code and read-only data that only startup touched, once the proxy
/// listens: the kernel maps a binary's code 64 KiB around every page it faults in, so parsing flags,
/// reading files and building TLS contexts leave megabytes of the binary resident that serving
/// never touches again. The pages stay in the page cache; the ones serving needs fault back in.
/// `IdleMemoryRelease` gives back the same pages again whenever the last client connection closes.
enum StartupPages {
    /// A mapping that can be dropped and faulted back unchanged: a private, read-only mapping of a file
    /// with no page copied on write (which rules out relocated read-only data).
    struct ReleasableMapping: Equatable {
        var start: UInt
        var end: UInt
        var residentBytes: Int
    }

    /// Picks the releasable mappings out of `/proc/PID/smaps`, fed one line at a time: file-backed
    /// (the path is absolute), private, not writable, with resident pages and none of them anonymous.
    struct SmapsScanner {
        private(set) var releasable: [ReleasableMapping] = []
        private var candidate: ReleasableMapping?
        private var anonymousKilobytes = 0

        mutating func consume(line: Substring) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { return }
            if first.hasSuffix(":") {
                guard candidate != nil, fields.count >= 2, let kilobytes = Int(fields[1]) else { return }
                if first == "Rss:" { candidate?.residentBytes = kilobytes * 1024 }
                if first == "Anonymous:" { anonymousKilobytes = kilobytes }
                return
            }
            finish()
            let bounds = first.split(separator: "-")
            guard fields.count >= 6, fields[5].hasPrefix("/"), fields[1] == "r-xp" || fields[1] == "r--p",
                  bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16), end > start
            else { return }
            candidate = ReleasableMapping(start: start, end: end, residentBytes: 0)
        }

        /// Closes the last mapping; call once after the final line.
        mutating func finish() {
            if let mapping = candidate, mapping.residentBytes > 0, anonymousKilobytes == 0 {
                releasable.append(mapping)
            }
            candidate = nil
            anonymousKilobytes = 0
        }
    }

    /// Drops the resident pages of every releasable mapping of this process and returns how many bytes
    /// were resident in them; 0 where `/proc/self/smaps` cannot be read (or off Linux).
    @discardableResult
    static func release() -> Int {
        #if os(Linux)
        var released = 0
        for mapping in releasableMappings() {
            guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(address, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0 {
                released += mapping.residentBytes
            }
        }
        return released
        #else
        return 0
        #endif
    }

    #if os(Linux)
    /// This process's releasable mappings, read a piece at a time: smaps lists every mapping, and
    /// reading it whole would leave its size behind in the heap.
    private static func releasableMappings() -> [ReleasableMapping] {
        var scanner = SmapsScanner()
        var pending: [UInt8] = []
        pending.reserveCapacity(1024)
        do {
            try LocalFile.forEachChunk(atPath: "/proc/self/smaps") { chunk in
                for byte in chunk {
                    guard byte == UInt8(ascii: "\n") else {
                        pending.append(byte)
                        continue
                    }
                    scanner.consume(line: Substring(decoding: pending, as: UTF8.self))
                    pending.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            return []
        }
        scanner.consume(line: Substring(decoding: pending, as: UTF8.self))
        scanner.finish()
        return scanner.releasable
    }
    #endif
}
