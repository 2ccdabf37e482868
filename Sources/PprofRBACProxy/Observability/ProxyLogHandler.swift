import Foundation
import Logging

/// Writes log records as single lines to standard error: time, level, message, then the metadata
/// as `key=value` pairs in key order.
public struct ProxyLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, logLevel: Logger.Level) {
        self.label = label
        self.logLevel = logLevel
    }

    /// The swift-log level for a klog `-v` verbosity: 0–1 info, 2–4 debug, 5 and above trace.
    public static func level(forVerbosity verbosity: Int) -> Logger.Level {
        switch verbosity {
        case ..<2: .info
        case 2..<5: .debug
        default: .trace
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var line = "\(Self.timestamp()) \(event.level.rawValue.uppercased()) \(event.message)"
        for key in merged.keys.sorted() {
            line += " \(key)=\(LogValue.quoted(merged[key].map { "\($0)" } ?? ""))"
        }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    private static func timestamp() -> String {
        Date.now.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
