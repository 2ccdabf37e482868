import Foundation
import NIOConcurrencyHelpers
import TestProcesses
import Testing

@testable import KubectlPprof

/// The progress line's text, and when the reporter writes it.
@Suite("kubectl pprof progress")
struct ProgressTests {
    @Test("each stage of a capture, as the proxy tells it")
    func stages() {
        var progress = FetchProgress(label: "pod/a cpu", expectedSeconds: 30)
        #expect(progress.line(at: 0.4) == "pod/a cpu: waiting for the proxy 0s, 0 B")
        var changed = progress.apply(.capture(.queued(position: 2)), at: 0.5)
        #expect(changed)
        #expect(progress.line(at: 7.9) == "pod/a cpu: queued behind another capture (position 2) 7s, 0 B")
        changed = progress.apply(.capture(.started(waited: .seconds(9))), at: 9.5)
        #expect(changed)
        #expect(progress.line(at: 21.6) == "pod/a cpu: running 12s / 30s, 0 B")
        changed = progress.apply(.answered(status: 200), at: 39.6)
        #expect(changed)
        changed = progress.apply(.received(bytes: 1_300_000), at: 39.8)
        #expect(!changed, "bytes are not a new stage")
        #expect(progress.line(at: 40) == "pod/a cpu: receiving 30s / 30s, 1.2 MiB")
        var joined = FetchProgress(label: "pod/b cpu", expectedSeconds: 10)
        joined.apply(.capture(.joined), at: 0.1)
        #expect(joined.line(at: 3.2) == "pod/b cpu: joined an identical capture 3s / 10s, 0 B")
    }

    @Test("a CPU profile merged from the proxy's slices: running from the first word, slices merged as they come, one stage")
    func sliced() {
        var progress = FetchProgress(label: "pod/a cpu", expectedSeconds: 10)
        var changed = progress.apply(.capture(.sliced(done: 0, of: 10)), at: 0.2)
        #expect(changed)
        #expect(progress.line(at: 0.3) == "pod/a cpu: running 0s / 10s, 0 of 10 slices merged, 0 B")
        changed = progress.apply(.capture(.sliced(done: 4, of: 10)), at: 5.3)
        #expect(!changed, "a slice merged is not a new stage")
        #expect(progress.line(at: 5.5) == "pod/a cpu: running 5s / 10s, 4 of 10 slices merged, 0 B")
        changed = progress.apply(.answered(status: 200), at: 11.4)
        #expect(changed)
        #expect(progress.line(at: 11.5) == "pod/a cpu: receiving 11s / 10s, 0 B")
    }

    @Test("sizes", arguments: [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (12_595, "12.3 KiB"), (5 << 20, "5.0 MiB"), (3 << 30, "3.0 GiB")])
    func sizes(bytes: Int, text: String) {
        #expect(FetchProgress.size(bytes) == text)
    }

    /// Text written by a reporter, collected.
    private final class Written: Sendable {
        let text = NIOLockedValueBox("")
        func append(_ piece: String) { text.withLockedValue { $0 += piece } }
    }

    @Test("off a terminal: a line per stage change of a capture, none for a profile answered at once; lines of their own")
    func lines() {
        let written = Written()
        let reporter = ProgressReporter(isTerminal: false) { written.append($0) }
        let capture = reporter.add(FetchProgress(label: "pod/a cpu", expectedSeconds: 3))
        let heap = reporter.add(FetchProgress(label: "pod/b heap", expectedSeconds: nil))
        reporter.report(.capture(.started(waited: nil)), for: capture)
        reporter.report(.received(bytes: 10), for: capture)
        reporter.report(.answered(status: 200), for: heap)
        reporter.done(capture)
        reporter.done(heap)
        reporter.print("saved")
        reporter.finish()
        #expect(written.text.withLockedValue { $0 } == "pod/a cpu: running 0s / 3s, 0 B\nsaved\n")
    }

    @Test("on a terminal: the live line is redrawn in place and cleared before a line of its own")
    func terminal() async throws {
        let written = Written()
        let reporter = ProgressReporter(isTerminal: true) { written.append($0) }
        let index = reporter.add(FetchProgress(label: "pod/a cpu", expectedSeconds: 30))
        reporter.report(.capture(.queued(position: 1)), for: index)
        try await eventually("the live line to be drawn", timeout: .seconds(10)) {
            written.text.withLockedValue { $0 }.contains("\r\u{1B}[Kpod/a cpu: queued behind another capture (position 1)") ? true : nil
        }
        reporter.print("note")
        reporter.finish()
        let text = written.text.withLockedValue { $0 }
        #expect(text.hasSuffix("\r\u{1B}[Knote\n"), "\(text.debugDescription)")
        #expect(!text.contains("\n\r"), "no stage lines of their own on a terminal")
    }
}
