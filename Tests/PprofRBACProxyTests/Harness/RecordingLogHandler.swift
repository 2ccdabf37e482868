import Logging
import Synchronization

/// Keeps every log message with its metadata, to check what reaches the logs.
final class RecordingLogHandler: LogHandler, Sendable {
    private let records = Mutex<[String]>([])

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let line = "\(event.level) \(event.message) \(event.metadata ?? [:])"
        records.withLock { $0.append(line) }
    }

    var lines: [String] {
        records.withLock { $0 }
    }
}
