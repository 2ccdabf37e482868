import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--audit-log-path`: one JSON line (`AuditRecord`) per exchange, appended to a file or written
/// to standard error. Lines are encoded and written on a queue of their own, so an event loop never
/// waits for the disk; at most `queueCapacity` lines wait, more are dropped and counted. A file is
/// reopened by its path on SIGHUP (log rotation), and flushed and closed at shutdown.
final class AuditLog: ExchangeObserver, Service, Sendable {
    /// Where the lines go.
    enum Destination: Sendable, Equatable {
        /// `--audit-log-path=-`.
        case standardError
        case file(path: String)

        init(path: String) {
            self = path == "-" ? .standardError : .file(path: path)
        }
    }

    /// Lines waiting to be written beyond this are dropped.
    static let queueCapacity = 4096
    /// At most one warning about dropped lines per interval; the ones in between are summed into the next.
    static let warningInterval: Duration = .seconds(10)

    private struct DropReport {
        var counts: [AuditLineDropReason: Int] = [:]
        var lastWarning: ContinuousClock.Instant?
    }

    let destination: Destination
    private let queue = DispatchQueue(label: "pprof-rbac-proxy.audit-log")
    /// The open file (standard error's descriptor for `.standardError`), -1 once closed; used on `queue`.
    private let descriptor: NIOLockedValueBox<Int32>
    private let pending = NIOLockedValueBox(0)
    private let dropReport = NIOLockedValueBox(DropReport())
    /// SIGHUP, trapped before the proxy starts listening so that an early rotation cannot kill it.
    private let hangups: UnixSignalsSequence?
    private let metrics: ProxyMetrics
    private let logger: Logger

    /// Opens the file (creating it, mode 0600, appending) and traps SIGHUP; throws when it cannot be opened.
    init(destination: Destination, metrics: ProxyMetrics, logger: Logger) async throws {
        self.destination = destination
        self.metrics = metrics
        self.logger = logger
        switch destination {
        case .standardError:
            descriptor = NIOLockedValueBox(STDERR_FILENO)
            hangups = nil
        case .file(let path):
            descriptor = NIOLockedValueBox(try Self.openForAppending(path))
            hangups = await UnixSignalsSequence(trapping: .sighup)
        }
    }

    func exchangeEnded(_ record: ExchangeRecord) {
        let accepted = pending.withLockedValue { pending in
            guard pending < Self.queueCapacity else { return false }
            pending += 1
            return true
        }
        guard accepted else {
            dropped(.queueFull, detail: "\(Self.queueCapacity) lines are waiting to be written")
            return
        }
        queue.async {
            self.writeLine(for: record)
            self.pending.withLockedValue { $0 -= 1 }
        }
    }

    /// Reopens the file on every SIGHUP until shutdown, then writes what is queued and closes it.
    func run() async throws {
        if let hangups {
            await cancelWhenGracefulShutdown {
                for await _ in hangups {
                    self.reopen()
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        await finish()
    }

    /// Opens the path again and writes the following lines there (after `mv`, a new file); the
    /// lines queued before the signal still go to the previous one.
    func reopen() {
        guard case .file(let path) = destination else { return }
        queue.async {
            do {
                let reopened = try Self.openForAppending(path)
                let previous = self.descriptor.withLockedValue { descriptor in
                    defer { descriptor = reopened }
                    return descriptor
                }
                if previous >= 0 {
                    _ = close(previous)
                }
                self.logger.info("audit log reopened", metadata: ["path": "\(path)"])
            } catch {
                self.logger.error("cannot reopen the audit log; still writing to the previous file", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Waits until every queued line is written, then closes the file; later lines are dropped.
    func finish() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                let closing = self.descriptor.withLockedValue { descriptor in
                    defer { descriptor = -1 }
                    return descriptor
                }
                if case .file = self.destination, closing >= 0 {
                    _ = close(closing)
                }
                continuation.resume()
            }
        }
    }

    /// Runs on `queue`.
    private func writeLine(for record: ExchangeRecord) {
        let line: Data
        do {
            line = try AuditRecord(record).jsonLine()
        } catch {
            dropped(.writeFailed, detail: "cannot encode the line: \(error)")
            return
        }
        let descriptor = self.descriptor.withLockedValue { $0 }
        guard descriptor >= 0 else {
            dropped(.writeFailed, detail: "the audit log is closed")
            return
        }
        if let failure = Self.writeAll(line, to: descriptor) {
            dropped(.writeFailed, detail: failure)
        }
    }

    private func dropped(_ reason: AuditLineDropReason, detail: String) {
        metrics.auditLinesDropped(1, reason: reason)
        let counts = dropReport.withLockedValue { report -> [AuditLineDropReason: Int]? in
            report.counts[reason, default: 0] += 1
            let now = ContinuousClock.now
            if let last = report.lastWarning, now - last < Self.warningInterval {
                return nil
            }
            report.lastWarning = now
            defer { report.counts = [:] }
            return report.counts
        }
        guard let counts else { return }
        let summary = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
        logger.warning(
            "audit lines dropped", metadata: ["dropped": "\(summary.joined(separator: ","))", "last-reason": "\(detail)"]
        )
    }

    private static func openForAppending(_ path: String) throws(ConfigurationError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .invalidFlag(flag: "--audit-log-path", value: path, reason: String(cString: strerror(errno)))
        }
        return descriptor
    }

    /// Writes all of `bytes`; the reason when that failed.
    private static func writeAll(_ bytes: Data, to descriptor: Int32) -> String? {
        bytes.withUnsafeBytes { buffer -> String? in
            guard let start = buffer.baseAddress else { return nil }
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, start + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += written
            }
            return nil
        }
    }
}
