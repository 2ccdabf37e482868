import DequeModule
import NIOConcurrencyHelpers
import NIOCore

/// Keeps one CPU profile and one trace running at a time against the upstream (the Go runtime
/// refuses a second with 500), and caps captures per user.
///
/// A request like the running capture (same method, endpoint and `seconds`) that arrives within
/// the join window joins it and receives the same bytes; any other waits its turn in a FIFO queue,
/// unless the queue is full or the wait would be longer than the queue timeout (429 with
/// `Retry-After`).
final class CaptureScheduler: Sendable {
    /// The scheduler's limits (`--capture-join-window`, `--capture-queue-timeout`,
    /// `--capture-queue-size`, `--max-captures-per-user`).
    struct Configuration: Sendable {
        var joinWindow: Duration
        var queueTimeout: Duration
        var queueSize: Int
        var maximumPerUser: Int
    }

    /// The two process-wide resources a capture can hold.
    enum Lane: String, Sendable, CaseIterable {
        case cpu
        case trace
    }

    /// A capture request as the scheduler sees it.
    struct Request: Sendable {
        var lane: Lane
        /// Identifies requests that would produce the same bytes: method, path and `seconds`.
        var key: String
        var seconds: Double
    }

    /// What a request may do now.
    enum Admission: Sendable {
        /// Start its own capture now, and end it with `finished(_:)`.
        case start
        /// Subscribe to this running capture.
        case join(SharedCaptureHandle)
        /// Wait: `onTurn` is called when it may start, unless the wait is abandoned first.
        case wait
        /// Answer with this error.
        case refuse(ProxyError)
    }

    private struct Running {
        var id: UInt64
        var key: String
        var started: ContinuousClock.Instant
        var seconds: Double
        /// Set once the capture exists and while it can still be joined.
        var joinable: SharedCaptureHandle?
    }

    private struct Waiting {
        var id: UInt64
        var request: Request
        var capture: SharedCaptureHandle
        var onTurn: @Sendable () -> Void
    }

    private struct LaneState {
        var running: Running?
        var queue: Deque<Waiting> = []
        /// When a capture of this lane was last cut short while upstream.
        var cutShortAt: ContinuousClock.Instant?
    }

    private struct State {
        var lanes: [Lane: LaneState] = [.cpu: LaneState(), .trace: LaneState()]
        var capturesByUser: [String: Int] = [:]
        var nextID: UInt64 = 0
    }

    /// Time a capture is expected to take beyond its `seconds` (collecting, encoding, sending).
    static let overhead: Duration = .milliseconds(500)
    /// How long after a capture was cut short Go may still hold its profiler (it stops it once it
    /// notices the closed connection).
    static let settleTime: Duration = .seconds(2)

    let configuration: Configuration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let metrics: ProxyMetrics
    private let state = NIOLockedValueBox(State())

    init(
        configuration: Configuration, metrics: ProxyMetrics,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.now = now
    }

    /// A fresh identifier, for a capture or a subscriber of one.
    func newID() -> UInt64 {
        state.withLockedValue { state in
            state.nextID += 1
            return state.nextID
        }
    }

    /// Counts a capture against `user`, or refuses it when the user has too many.
    func admitUser(_ user: String) -> ProxyError? {
        state.withLockedValue { state in
            let running = state.capturesByUser[user, default: 0]
            guard running < configuration.maximumPerUser else {
                return .tooManyRequests(
                    "\(user) already has \(running) captures running (--max-captures-per-user=\(configuration.maximumPerUser))",
                    retryAfterSeconds: 5
                )
            }
            state.capturesByUser[user] = running + 1
            return nil
        }
    }

    /// Ends a capture counted by `admitUser`.
    func userFinished(_ user: String) {
        state.withLockedValue { state in
            let remaining = state.capturesByUser[user, default: 1] - 1
            state.capturesByUser[user] = remaining > 0 ? remaining : nil
        }
    }

    /// Places a CPU profile or trace request whose capture (made but not started) is `capture`,
    /// identified by `id`; the capture is joinable from the moment it runs.
    func admit(
        _ request: Request, id: UInt64, capture: SharedCaptureHandle, onTurn: @escaping @Sendable () -> Void
    ) -> Admission {
        state.withLockedValue { state in
            let now = self.now()
            var lane = state.lanes[request.lane, default: LaneState()]
            defer { store(lane, as: request.lane, in: &state) }
            guard let running = lane.running else {
                lane.running = Running(id: id, key: request.key, started: now, seconds: request.seconds, joinable: capture)
                return .start
            }
            if running.key == request.key, let capture = running.joinable, now - running.started < configuration.joinWindow {
                metrics.captureJoined(request.lane)
                return .join(capture)
            }
            let wait = expectedWait(lane, at: now)
            guard lane.queue.count < configuration.queueSize else {
                return .refuse(.tooManyRequests(
                    "\(lane.queue.count) requests already wait for the \(request.lane) (--capture-queue-size)",
                    retryAfterSeconds: Self.seconds(wait)
                ))
            }
            guard wait <= configuration.queueTimeout else {
                return .refuse(.tooManyRequests(
                    "the \(request.lane.description) is busy for about \(Self.seconds(wait))s, longer than --capture-queue-timeout",
                    retryAfterSeconds: Self.seconds(wait - configuration.queueTimeout)
                ))
            }
            lane.queue.append(Waiting(id: id, request: request, capture: capture, onTurn: onTurn))
            return .wait
        }
    }

    /// No more requests may join this capture (its replay buffer is full).
    func stopJoining(_ id: UInt64) {
        state.withLockedValue { state in
            for lane in Lane.allCases where state.lanes[lane]?.running?.id == id {
                state.lanes[lane]?.running?.joinable = nil
            }
        }
    }

    /// Ends a running capture; the next waiter in its lane (if any) starts. `cutShort`: its
    /// upstream request was closed before the response ended, so the profiler may still be
    /// releasing (see `isSettling`).
    func finished(_ id: UInt64, cutShort: Bool = false) {
        let next: (@Sendable () -> Void)? = state.withLockedValue { state in
            for laneName in Lane.allCases where state.lanes[laneName]?.running?.id == id {
                var lane = state.lanes[laneName, default: LaneState()]
                defer { store(lane, as: laneName, in: &state) }
                if cutShort {
                    lane.cutShortAt = now()
                }
                guard let waiting = lane.queue.popFirst() else {
                    lane.running = nil
                    return nil
                }
                lane.running = Running(
                    id: waiting.id, key: waiting.request.key, started: now(), seconds: waiting.request.seconds,
                    joinable: waiting.capture
                )
                return waiting.onTurn
            }
            return nil
        }
        next?()
    }

    /// Whether a capture of `lane` was cut short within the settle time: a 500 from Go now most
    /// likely means its profiler is still being released, not that someone else holds it.
    func isSettling(_ lane: Lane) -> Bool {
        state.withLockedValue { state in
            guard let cutShortAt = state.lanes[lane]?.cutShortAt else { return false }
            return now() - cutShortAt < Self.settleTime
        }
    }

    /// Takes a waiter out of its queue (its client left, or it waited too long). False when it
    /// had already been given its turn.
    func abandonWait(_ id: UInt64) -> Bool {
        state.withLockedValue { state in
            for laneName in Lane.allCases {
                if var lane = state.lanes[laneName], let index = lane.queue.firstIndex(where: { $0.id == id }) {
                    lane.queue.remove(at: index)
                    store(lane, as: laneName, in: &state)
                    return true
                }
            }
            return false
        }
    }

    /// How many captures run and wait, by lane (for metrics and tests).
    func occupancy(_ lane: Lane) -> (running: Int, waiting: Int) {
        state.withLockedValue { state in
            let laneState = state.lanes[lane, default: LaneState()]
            return (laneState.running == nil ? 0 : 1, laneState.queue.count)
        }
    }

    /// Saves a lane's new state and publishes its occupancy.
    private func store(_ lane: LaneState, as name: Lane, in state: inout State) {
        state.lanes[name] = lane
        metrics.captureOccupancyChanged(name, running: lane.running == nil ? 0 : 1, queued: lane.queue.count)
    }

    /// The expected wait for a request joining the back of `lane`'s queue now.
    private func expectedWait(_ lane: LaneState, at now: ContinuousClock.Instant) -> Duration {
        var wait = Duration.zero
        if let running = lane.running {
            let elapsed = now - running.started
            let expected = Self.duration(seconds: running.seconds) + Self.overhead
            wait += expected > elapsed ? expected - elapsed : .zero
        }
        for waiting in lane.queue {
            wait += Self.duration(seconds: waiting.request.seconds) + Self.overhead
        }
        return wait
    }

    private static func duration(seconds: Double) -> Duration {
        seconds.isFinite ? .milliseconds(Int64(seconds * 1000)) : .seconds(Int64.max / 2_000_000_000)
    }

    /// Whole seconds, rounded up, at least 1 (for `Retry-After`).
    private static func seconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }
}

extension CaptureScheduler.Lane: CustomStringConvertible {
    var description: String {
        switch self {
        case .cpu: "CPU profiler"
        case .trace: "tracer"
        }
    }
}
