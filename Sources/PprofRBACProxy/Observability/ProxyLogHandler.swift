import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Writes log records as single lines to standard error: time, level, message, then the metadata
/// as `key=value` pairs in key order.
package struct ProxyLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let label: String

    package init(label: String, logLevel: Logger.Level) {
        self.label = label
        self.logLevel = logLevel
    }

    /// The swift-log level for a klog `-v` verbosity: 0–1 info, 2–4 debug, 5 and above trace.
    package static func level(forVerbosity verbosity: Int) -> Logger.Level {
        switch verbosity {
        case ..<2: .info
        case 2..<5: .debug
        default: .trace
        }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var line = "\(Self.timestamp()) \(event.level.rawValue.uppercased()) \(event.message)"
        for key in merged.keys.sorted() {
            line += " \(key)=\(LogValue.quoted(merged[key].map { "\($0)" } ?? ""))"
        }
        line += "\n"
        Self.writeToStandardError(&line)
    }

    /// One `write(2)` per line (more only if the kernel takes part of it), so lines from several
    /// threads never interleave.
    private static func writeToStandardError(_ line: inout String) {
        line.withUTF8 { bytes in
            guard let start = bytes.baseAddress else { return }
            var written = 0
            while written < bytes.count {
                let result = write(STDERR_FILENO, start + written, bytes.count - written)
                if result > 0 {
                    written += result
                } else if result < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// Now in UTC as `2006-01-02T15:04:05.000Z`, formatted by hand: this runs for every request.
    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var fields = tm()
        gmtime_r(&seconds, &fields)
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func append(_ value: Int, digits: Int, then separator: Unicode.Scalar) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
            text.append(UInt8(ascii: separator))
        }
        append(Int(fields.tm_year) + 1900, digits: 4, then: "-")
        append(Int(fields.tm_mon) + 1, digits: 2, then: "-")
        append(Int(fields.tm_mday), digits: 2, then: "T")
        append(Int(fields.tm_hour), digits: 2, then: ":")
        append(Int(fields.tm_min), digits: 2, then: ":")
        append(Int(fields.tm_sec), digits: 2, then: ".")
        append(now.tv_nsec / 1_000_000, digits: 3, then: "Z")
        return String(decoding: text, as: UTF8.self)
    }
}
