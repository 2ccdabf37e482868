import Foundation

/// Shows how the fetches of a run stand, on standard error: on a terminal one live line, redrawn
/// four times a second (several fetches side by side on it); elsewhere a line when a capture
/// changes stage and every `interval` seconds.
package final class ProgressReporter: @unchecked Sendable {
    /// Off a terminal, the time between two lines of a fetch that is not changing stage.
    package static let interval: Double = 2

    private let lock = NSLock()
    private let isTerminal: Bool
    private let write: @Sendable (String) -> Void
    private let clock = ContinuousClock()
    private var fetches: [FetchProgress] = []
    /// When each fetch's request was sent.
    private var sentAt: [ContinuousClock.Instant] = []
    /// Off a terminal, when each fetch's last line was written (its sending, before the first).
    private var lastLine: [Double] = []
    private var ticker: Task<Void, Never>?
    private var drewLine = false

    /// `write` takes each piece of text as it is to appear (tests collect it).
    package init(isTerminal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.write = write
    }

    /// Reports on standard error, live when it is a terminal.
    package static func standardError() -> ProgressReporter {
        ProgressReporter(isTerminal: isatty(STDERR_FILENO) == 1) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// Adds a fetch whose request is sent now and returns its index for `report`.
    package func add(_ progress: FetchProgress) -> Int {
        lock.lock()
        defer { lock.unlock() }
        fetches.append(progress)
        sentAt.append(clock.now)
        lastLine.append(0)
        if ticker == nil {
            let period: Duration = isTerminal ? .milliseconds(250) : .milliseconds(500)
            ticker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    self?.tick()
                }
            }
        }
        return fetches.count - 1
    }

    /// What fetch `index` reported.
    package func report(_ event: ProfileFetcher.Event, for index: Int) {
        lock.lock()
        let elapsed = seconds(since: sentAt[index])
        let changed = fetches[index].apply(event, at: elapsed)
        // Off a terminal, stage lines only for captures: a profile answered at once needs none.
        let line = changed && !isTerminal && fetches[index].expectedSeconds != nil ? fetches[index].line(at: elapsed) : nil
        if line != nil { lastLine[index] = elapsed }
        lock.unlock()
        if let line { write(line + "\n") }
    }

    /// A line of its own (a saved file, a wait), above the live line.
    package func print(_ text: String) {
        lock.lock()
        let clear = isTerminal && drewLine ? "\r\u{1B}[K" : ""
        drewLine = false
        lock.unlock()
        write(clear + text + "\n")
    }

    /// Stops the live line and clears it.
    package func finish() {
        lock.lock()
        ticker?.cancel()
        ticker = nil
        let clear = isTerminal && drewLine
        drewLine = false
        lock.unlock()
        if clear { write("\r\u{1B}[K") }
    }

    private func tick() {
        lock.lock()
        var text = ""
        if isTerminal {
            let live = fetches.indices.filter { !fetches[$0].isDone }
            if !live.isEmpty {
                text = "\r\u{1B}[K" + live.map { fetches[$0].line(at: seconds(since: sentAt[$0])) }.joined(separator: " | ")
                drewLine = true
            }
        } else {
            for index in fetches.indices where !fetches[index].isDone {
                let elapsed = seconds(since: sentAt[index])
                guard elapsed - lastLine[index] >= Self.interval else { continue }
                lastLine[index] = elapsed
                text += fetches[index].line(at: elapsed) + "\n"
            }
        }
        lock.unlock()
        if !text.isEmpty { write(text) }
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let (whole, attoseconds) = (clock.now - start).components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    /// Marks fetch `index` done: no more lines for it.
    package func done(_ index: Int) {
        lock.lock()
        fetches[index].isDone = true
        lock.unlock()
    }
}
