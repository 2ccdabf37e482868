import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Testing

@testable import PprofRBACProxy

@Suite("BearerTokenSource")
final class BearerTokenSourceTests {
    private let directory: TemporaryDirectory
    /// Moved by hand, so refresh intervals pass without waiting.
    private let clock = ManualClock()
    private let logs = RecordingLogHandler()

    init() throws {
        directory = try TemporaryDirectory()
    }

    deinit {
        directory.remove()
    }

    private var logger: Logger {
        let handler = logs
        return Logger(label: "test") { _ in handler }
    }

    private func makeSource(refreshInterval: Duration = .seconds(60)) throws -> (BearerTokenSource, String) {
        let path = try directory.write("first-token\n", to: "token")
        let clock = self.clock
        let source = try BearerTokenSource(
            filePath: path, refreshInterval: refreshInterval, logger: logger, now: clock.now
        )
        return (source, path)
    }

    @Test func literalToken() {
        #expect(BearerTokenSource(token: "fixed").currentToken() == "fixed")
    }

    @Test func fileIsReadAtOnceAndTrimmed() throws {
        let (source, _) = try makeSource()
        #expect(source.currentToken() == "first-token")
    }

    @Test("a token file replaced the way the kubelet rotates projected tokens (a rename over it) is read at once, without waiting for the interval")
    func replacedFileIsReadAtOnce() throws {
        let (source, path) = try makeSource()
        #expect(source.currentToken() == "first-token")
        let replacement = try directory.write("second-token\n", to: "token.new")
        #expect(rename(replacement, path) == 0)
        #expect(source.currentToken() == "second-token")
    }

    @Test("a token file rewritten in place is read at once too")
    func rewrittenFileIsReadAtOnce() throws {
        let (source, _) = try makeSource()
        try directory.write("second-token-longer", to: "token")
        #expect(source.currentToken() == "second-token-longer")
    }

    @Test("a change that leaves size and modification time alone is still read once the interval has passed")
    func unnoticedChangeIsReadAfterTheInterval() throws {
        let (source, path) = try makeSource()
        var status = stat()
        #expect(stat(path, &status) == 0)
        // In place (the same inode), the same 12 bytes as "first-token\n", the old times put back.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data("other-token\n".utf8))
        try handle.close()
        var times = [status.st_atim, status.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)

        clock.advance(by: .seconds(59))
        #expect(source.currentToken() == "first-token")
        clock.advance(by: .seconds(1))
        #expect(source.currentToken() == "other-token")
    }

    @Test func lastGoodTokenIsKeptWhenTheFileDisappears() throws {
        let (source, path) = try makeSource()
        try FileManager.default.removeItem(atPath: path)

        clock.advance(by: .seconds(61))
        #expect(source.currentToken() == "first-token")
        #expect(logs.lines.count == 1)
        #expect(logs.lines.first?.contains("keeping the last token read") == true)
        #expect(logs.lines.first?.contains("first-token") == false)

        // The failed read counts as a refresh: no new attempt (and log line) until the interval passes again.
        #expect(source.currentToken() == "first-token")
        #expect(logs.lines.count == 1)

        try directory.write("third-token", to: "token")
        clock.advance(by: .seconds(60))
        #expect(source.currentToken() == "third-token")
    }

    @Test func lastGoodTokenIsKeptWhenTheFileBecomesEmpty() throws {
        let (source, _) = try makeSource()
        try directory.write("", to: "token")
        clock.advance(by: .seconds(60))
        #expect(source.currentToken() == "first-token")
        #expect(logs.lines.count == 1)
    }

    @Test func unreadableFileAtStartIsAnError() throws {
        let path = directory.path + "/missing"
        let error = try #require(throws: LocalFile.ReadError.self) {
            try BearerTokenSource(filePath: path, logger: logger)
        }
        #expect(error == LocalFile.ReadError(path: path, reason: "No such file or directory"))
    }

    @Test func defaultRefreshIntervalIsClientGos() {
        #expect(BearerTokenSource.defaultRefreshInterval == .seconds(60))
    }
}
