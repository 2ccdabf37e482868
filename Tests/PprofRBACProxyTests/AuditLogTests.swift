import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import PprofRBACProxy
import TestProcesses

#if canImport(Glibc)
import Glibc
#endif

@Suite("AuditLog: JSON lines appended off the event loop, reopened for rotation, bounded")
struct AuditLogTests {
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func record(_ path: String) -> ExchangeRecord {
        var record = ExchangeRecord(start: Date(), clientAddress: "127.0.0.1", method: "GET", path: path)
        record.decision = .refuse(.unauthorized)
        record.status = 401
        record.completed = true
        return record
    }

    func paths(inFile file: String) throws -> [String] {
        try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["path"] as? String ?? "not an audit line: \(line)"
        }
    }

    @Test("appends one line per exchange after what the file held; a new file is created with mode 0600")
    func appends() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let existing = try directory.write(#"{"path":"/earlier"}"# + "\n", to: "existing.log")
        let log = try await AuditLog(destination: .file(path: existing), metrics: ProxyMetrics(), logger: quiet)
        log.exchangeEnded(record("/debug/pprof/heap"))
        log.exchangeEnded(record("/debug/pprof/"))
        await log.finish()
        #expect(try paths(inFile: existing) == ["/earlier", "/debug/pprof/heap", "/debug/pprof/"])

        let created = directory.path + "/created.log"
        let second = try await AuditLog(destination: .file(path: created), metrics: ProxyMetrics(), logger: quiet)
        second.exchangeEnded(record("/debug/pprof/heap"))
        await second.finish()
        #expect(try paths(inFile: created) == ["/debug/pprof/heap"])
        let permissions = try FileManager.default.attributesOfItem(atPath: created)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }

    @Test("after mv and reopen, earlier lines stay in the moved file and later ones start a new file")
    func reopenAfterMove() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/audit.log"
        let log = try await AuditLog(destination: .file(path: path), metrics: ProxyMetrics(), logger: quiet)
        log.exchangeEnded(record("/before"))
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        log.exchangeEnded(record("/still-before"))
        log.reopen()
        log.exchangeEnded(record("/after"))
        await log.finish()
        #expect(try paths(inFile: path + ".1") == ["/before", "/still-before"])
        #expect(try paths(inFile: path) == ["/after"])
    }

    @Test("a stuck file: lines beyond the queue's capacity are dropped, counted, and warned about once")
    func boundedQueue() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A FIFO nobody reads from yet stands in for a stuck disk: writes block once its buffer is full.
        let path = directory.path + "/stuck.fifo"
        try #require(mkfifo(path, 0o600) == 0)
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        try #require(reader >= 0)
        defer { close(reader) }
        let metrics = ProxyMetrics()
        let logs = RecordingLogHandler()
        let log = try await AuditLog(destination: .file(path: path), metrics: metrics, logger: Logger(label: "test") { _ in logs })

        let sent = AuditLog.queueCapacity + 2000
        for index in 0..<sent {
            log.exchangeEnded(record("/debug/pprof/heap?\(index)"))
        }
        let exposition = MetricsExposition(metrics.exposition())
        let dropped = Int(exposition.count(#"pprof_rbac_proxy_audit_lines_dropped_total{reason="queue_full"}"#))
        #expect(dropped > 0)
        #expect(dropped <= 2000)
        #expect(logs.lines.filter { $0.contains("audit lines dropped") }.count == 1)

        // Unstick it: every line that was not dropped arrives, whole. A thread of its own reads the
        // FIFO as fast as the writer fills it, as a disk that has come back would take the lines;
        // polling it from a test task would read only as often as a loaded test run schedules that task.
        _ = fcntl(reader, F_SETFL, fcntl(reader, F_GETFL) & ~O_NONBLOCK)
        let received = FIFOReader(descriptor: reader)
        try await eventually("\(sent - dropped) lines through the FIFO", timeout: .seconds(30)) {
            received.lines >= sent - dropped ? true : nil
        }
        await log.finish()
        // The writer closed its end: the reader sees the end of the file, and no line more.
        try await eventually("the end of the FIFO", timeout: .seconds(30)) { received.ended ? true : nil }
        #expect(received.lines == sent - dropped)
    }

    @Test("a path that cannot be opened stops startup, naming the flag")
    func unopenable() async throws {
        await #expect {
            try await AuditLog(destination: .file(path: "/nonexistent-directory/audit.log"), metrics: ProxyMetrics(), logger: quiet)
        } throws: { error in
            guard case ConfigurationError.invalidFlag(let flag, let value, _) = error else { return false }
            return flag == "--audit-log-path" && value == "/nonexistent-directory/audit.log"
        }
    }

    @Test("- means standard error", arguments: [("-", AuditLog.Destination.standardError), ("a.log", .file(path: "a.log"))])
    func destination(path: String, expected: AuditLog.Destination) {
        #expect(AuditLog.Destination(path: path) == expected)
    }
}

/// Reads a descriptor on a thread of its own until end-of-file, counting lines.
private final class FIFOReader: Sendable {
    private let state = NIOLockedValueBox((lines: 0, ended: false))

    init(descriptor: Int32) {
        Thread.detachNewThread { [state] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count > 0 {
                    let lines = buffer[..<count].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                    state.withLockedValue { $0.lines += lines }
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            state.withLockedValue { $0.ended = true }
        }
    }

    var lines: Int { state.withLockedValue { $0.lines } }
    var ended: Bool { state.withLockedValue { $0.ended } }
}
