import Logging

/// Writes one log line per exchange: method, path, user, status, bytes and duration. Never the
/// query or any header, so no credential can reach the log.
struct AccessLog: ExchangeObserver {
    let logger: Logger

    func exchangeEnded(_ record: ExchangeRecord) {
        var line = "request method=\(LogValue.quoted(record.method))"
        line += " path=\(LogValue.quoted(record.path))"
        line += " user=\(LogValue.quoted(record.user?.name ?? "-"))"
        line += " status=\(record.status.map(String.init) ?? "-")"
        line += " bytes=\(record.bytes) duration=\(record.duration.formattedSeconds)"
        if !record.completed {
            line += " outcome=aborted"
        }
        logger.info("\(line)")
    }
}

extension Duration {
    /// Seconds with millisecond precision, as `0.012s`.
    var formattedSeconds: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        let whole = milliseconds / 1000
        let padded = String(milliseconds % 1000 + 1000).dropFirst()
        return "\(whole).\(padded)s"
    }
}
