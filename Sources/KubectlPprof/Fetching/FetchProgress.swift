import RequestPolicy

/// Where one fetch stands, as the progress line shows it: waiting for the proxy, queued behind
/// another capture, running (alone, joined to an identical one, or merged from the proxy's CPU
/// profile slices), receiving; bytes so far.
package struct FetchProgress: Sendable, Equatable {
    /// The stage, as the proxy told it or as the answer shows.
    package enum Stage: Sendable, Equatable {
        case waiting
        case queued(position: Int)
        case running
        case joined
        /// Served from the proxy's CPU profile slices.
        case sliced
        case receiving
        case answered(status: Int)
    }

    /// What is fetched, as `pod/NAME cpu`.
    package var label: String
    /// The capture's length, nil for a profile answered at once.
    package var expectedSeconds: Int?
    package var stage: Stage = .waiting
    package var bytes = 0
    /// Seconds since the request was sent at which the current stage began.
    package var stageStartedAt: Double = 0
    /// Seconds since the request was sent at which the capture began (its own or the joined one).
    package var captureStartedAt: Double?
    /// For a sliced capture: slices merged so far, and how many it needs.
    package var slicesMerged = 0
    package var slicesNeeded: Int?
    /// Finished (saved or failed): no more lines.
    package var isDone = false

    package init(label: String, expectedSeconds: Int?) {
        self.label = label
        self.expectedSeconds = expectedSeconds
    }

    /// Applies what the fetch reported at `elapsed` seconds; true when the stage changed.
    @discardableResult
    package mutating func apply(_ event: ProfileFetcher.Event, at elapsed: Double) -> Bool {
        let before = stage
        switch event {
        case .capture(.queued(let position)):
            stage = .queued(position: position)
        case .capture(.started):
            stage = .running
            captureStartedAt = elapsed
        case .capture(.joined):
            stage = .joined
            captureStartedAt = elapsed
        case .capture(.sliced(let done, let of)):
            if stage != .sliced { captureStartedAt = elapsed }
            stage = .sliced
            slicesMerged = done
            slicesNeeded = of
        case .answered(let status):
            stage = status == 200 ? .receiving : .answered(status: status)
        case .received(let total):
            bytes = total
        }
        if stage != before { stageStartedAt = elapsed }
        return stage != before
    }

    /// The line at `elapsed` seconds: `pod/a cpu: running 12s / 30s, 0 B`, or for a sliced capture
    /// `pod/a cpu: running 12s / 30s, 11 of 30 slices merged, 0 B`.
    package func line(at elapsed: Double) -> String {
        let state: String
        switch stage {
        case .waiting:
            state = "waiting for the proxy \(Self.seconds(elapsed))"
        case .queued(let position):
            state = "queued behind another capture (position \(position)) \(Self.seconds(elapsed - stageStartedAt))"
        case .running, .joined, .sliced, .receiving:
            let name =
                switch stage {
                case .joined: "joined an identical capture"
                case .running, .sliced: "running"
                default: "receiving"
                }
            let since = elapsed - (captureStartedAt ?? 0)
            state = expectedSeconds.map { "\(name) \(Self.seconds(since)) / \($0)s" } ?? "\(name) \(Self.seconds(since))"
        case .answered(let status):
            state = "answered \(status)"
        }
        let slices = stage == .sliced ? slicesNeeded.map { ", \(slicesMerged) of \($0) slices merged" } ?? "" : ""
        return "\(label): \(state)\(slices), \(Self.size(bytes))"
    }

    /// Whole seconds, as `12s`.
    static func seconds(_ value: Double) -> String { "\(Int(max(0, value)))s" }

    /// A byte count as `0 B`, `12.3 KiB`, `4.0 MiB`.
    package static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
