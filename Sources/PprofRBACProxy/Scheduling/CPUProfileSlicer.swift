import Logging
import NIOCore
import PprofProfile

/// Serves every CPU profile request at once, though Go runs one CPU profile at a time: while any
/// request needs one, it captures the upstream's CPU profile in back-to-back slices, and answers
/// each request with the merge of the slices of its own window.
///
/// A request's window starts with the next slice (the one after the slice running when it came)
/// and holds `seconds / sliceSeconds` slices, rounded up; requests with the same window share one
/// merge. Slices are merged as they arrive and not kept. The next slice is asked for as soon as
/// one ends, before merging; when no window needs another, slicing stops. Lives on one event
/// loop; request handlers on other loops reach it through `CPUProfileSlicerHandle`.
final class CPUProfileSlicer {
    /// How slices are taken and merged.
    struct Configuration: Sendable {
        /// One second, the shortest slice Go takes (`seconds` is a whole number): a request waits
        /// at most this long for its window to start, and the gaps between slices cost least
        /// next to the capture while they are few.
        var sliceSeconds = 1
        /// The most memory the merge of one window may take; a window past it is answered 502.
        var mergeMemoryLimit = 64 << 20
    }

    /// A window: the slices `first...last`.
    private struct WindowKey: Hashable {
        var first: UInt64
        var last: UInt64
    }

    /// One window being merged, and the requests waiting for it.
    private struct Window {
        var merger: ProfileMerger
        var subscribers: [UInt64: SlicedProfileSubscriberHandle] = [:]
        /// The profiler clock (Unix nanoseconds) at the start of its first slice and the end of
        /// its latest one.
        var start: Int64?
        var end: Int64?
        var largestGap: Duration = .zero
    }

    let configuration: Configuration
    private let source: any ProfileSliceSource
    private let eventLoop: any EventLoop
    private let metrics: ProxyMetrics
    private let logger: Logger
    private var windows: [WindowKey: Window] = [:]
    private var subscriptions: [UInt64: WindowKey] = [:]
    /// The slice being captured.
    private var running: UInt64?
    private var nextSlice: UInt64 = 1
    /// The number and end (profiler clock) of the latest slice read, to measure the gap to the next.
    private var latestEnd: (slice: UInt64, nanos: Int64)?

    init(
        configuration: Configuration, source: any ProfileSliceSource, eventLoop: any EventLoop, metrics: ProxyMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.source = source
        self.eventLoop = eventLoop
        self.metrics = metrics
        self.logger = logger
    }

    /// Adds a request for `seconds` of CPU profile; it is told its slices at once, how many are
    /// merged as each arrives, and the answer once its window has passed.
    func subscribe(_ subscriber: SlicedProfileSubscriberHandle, seconds: Int) {
        let count = UInt64(max(1, (seconds + configuration.sliceSeconds - 1) / configuration.sliceSeconds))
        let first = running.map { $0 + 1 } ?? nextSlice
        let key = WindowKey(first: first, last: first + count - 1)
        windows[key, default: Window(merger: ProfileMerger(memoryLimit: configuration.mergeMemoryLimit))]
            .subscribers[subscriber.id] = subscriber
        subscriptions[subscriber.id] = key
        publishOccupancy()
        subscriber.subscribed(slices: key.first...key.last)
        if running == nil {
            startSlice()
        }
    }

    /// Takes a request out (its client left). The running slice still ends; none follows unless
    /// another window needs it.
    func unsubscribe(_ id: UInt64) {
        guard let key = subscriptions.removeValue(forKey: id) else { return }
        windows[key]?.subscribers[id] = nil
        if windows[key]?.subscribers.isEmpty ?? false {
            windows[key] = nil
        }
        publishOccupancy()
    }

    /// Requests being served, and the slice being captured (for tests).
    var occupancy: (requests: Int, runningSlice: UInt64?) {
        (subscriptions.count, running)
    }

    private func startSlice() {
        let number = nextSlice
        running = number
        nextSlice += 1
        source.fetchSlice(seconds: configuration.sliceSeconds) { [self] result in
            // Never within `startSlice` itself, even when the source fails at once.
            eventLoop.assumeIsolated().execute { self.sliceEnded(number, result) }
        }
    }

    private func sliceEnded(_ number: UInt64, _ result: Result<[UInt8], ProfileSliceFailure>) {
        running = nil
        let continues = windows.keys.contains { $0.last > number }
        if continues {
            startSlice()
        }
        let covering = windows.keys.filter { $0.first <= number && number <= $0.last }
        guard !covering.isEmpty else {
            latestEnd = nil
            return
        }
        let clock = ContinuousClock()
        let started = clock.now
        let profile = result.flatMap { bytes in
            Result { () throws(ProfileError) in try ProfileFile.decode(bytes) }.mapError { ProfileSliceFailure.unreadable($0) }
        }
        switch profile {
        case .success(let profile):
            metrics.cpuProfileSliceEnded(succeeded: true)
            let gap = measureGap(after: number, profile, followed: continues)
            for key in covering {
                add(profile, gap: key.first == number ? nil : gap, to: key)
            }
        case .failure(let failure):
            metrics.cpuProfileSliceEnded(succeeded: false)
            latestEnd = nil
            logger.warning("CPU profile slice failed", metadata: ["slice": "\(number)", "reason": "\(failure)"])
            for key in covering {
                fail(key, .badGateway(failure.description))
            }
        }
        for key in covering where key.last == number {
            finish(key)
        }
        // Decoding, merging and answering run on this event loop: how long they take is logged.
        logger.debug(
            "CPU profile slice done",
            metadata: ["slice": "\(number)", "windows": "\(covering.count)", "cost": "\(clock.now - started)"]
        )
    }

    /// The time between the end of the previous slice and the start of this one, by the upstream
    /// profiler's own clock; nil when the previous slice is not known, or was not followed at once
    /// (slicing had stopped: that pause is no gap).
    private func measureGap(after number: UInt64, _ profile: Profile, followed: Bool) -> Duration? {
        defer { latestEnd = followed ? (number, profile.timeNanos &+ profile.durationNanos) : nil }
        guard let latestEnd, latestEnd.slice + 1 == number, profile.timeNanos >= latestEnd.nanos else { return nil }
        let gap = Duration.nanoseconds(profile.timeNanos - latestEnd.nanos)
        metrics.cpuProfileSliceGap(gap)
        return gap
    }

    private func add(_ profile: Profile, gap: Duration?, to key: WindowKey) {
        guard var window = windows[key] else { return }
        do {
            try window.merger.add(profile)
        } catch {
            fail(key, .badGateway("a CPU profile slice from the upstream does not merge: \(error)"))
            return
        }
        window.start = window.start ?? profile.timeNanos
        window.end = profile.timeNanos &+ profile.durationNanos
        if let gap { window.largestGap = max(window.largestGap, gap) }
        windows[key] = window
        let done = Int(window.merger.count)
        let of = Int(key.last - key.first + 1)
        for subscriber in window.subscribers.values {
            subscriber.merged(done, of: of)
        }
    }

    /// Answers a window whose last slice is in.
    private func finish(_ key: WindowKey) {
        guard let window = windows.removeValue(forKey: key) else { return }
        var merged = window.merger.profile
        if let start = window.start, let end = window.end {
            merged.timeNanos = start
            merged.durationNanos = end &- start
        }
        let answer = SlicedProfile(bytes: ProfileFile.encode(merged), slices: key.first...key.last, largestGap: window.largestGap)
        deliver(.success(answer), to: window)
    }

    private func fail(_ key: WindowKey, _ error: ProxyError) {
        guard let window = windows.removeValue(forKey: key) else { return }
        deliver(.failure(error), to: window)
    }

    private func deliver(_ result: Result<SlicedProfile, ProxyError>, to window: Window) {
        for (id, subscriber) in window.subscribers {
            subscriptions[id] = nil
            subscriber.answer(result)
        }
        publishOccupancy()
    }

    private func publishOccupancy() {
        metrics.captureOccupancyChanged(.cpu, running: subscriptions.count, queued: 0)
    }
}

/// A CPU profile merged from slices, as one request receives it.
struct SlicedProfile: Sendable {
    /// Gzipped `profile.proto`, as Go serves it.
    var bytes: [UInt8]
    /// The numbers of the slices it was merged from.
    var slices: ClosedRange<UInt64>
    /// The longest time between two of its slices, by the upstream profiler's clock.
    var largestGap: Duration
}

/// The slicer as request handlers on any event loop hold it; every call hops to the slicer's loop.
struct CPUProfileSlicerHandle: Sendable {
    let slicer: NIOLoopBoundBox<CPUProfileSlicer>

    func subscribe(_ subscriber: SlicedProfileSubscriberHandle, seconds: Int) {
        slicer.eventLoop.execute { slicer.value.subscribe(subscriber, seconds: seconds) }
    }

    func unsubscribe(_ id: UInt64) {
        slicer.eventLoop.execute { slicer.value.unsubscribe(id) }
    }
}

/// What the slicer tells each request it serves (the sliced profile handler; a seam for tests).
/// Called on the request's event loop.
protocol SlicedProfileSubscriber: AnyObject {
    /// Its window is the slices `slices`.
    func slicesAssigned(_ slices: ClosedRange<UInt64>)
    /// `done` of its `of` slices are merged.
    func slicesMerged(_ done: Int, of: Int)
    /// The merged profile, or the error to answer with.
    func slicedProfileReady(_ result: Result<SlicedProfile, ProxyError>)
}

/// A request as the slicer holds it; every call hops to the request's loop.
struct SlicedProfileSubscriberHandle: Sendable {
    let id: UInt64
    let subscriber: NIOLoopBound<any SlicedProfileSubscriber>

    func subscribed(slices: ClosedRange<UInt64>) {
        subscriber.eventLoop.execute { subscriber.value.slicesAssigned(slices) }
    }

    func merged(_ done: Int, of: Int) {
        subscriber.eventLoop.execute { subscriber.value.slicesMerged(done, of: of) }
    }

    func answer(_ result: Result<SlicedProfile, ProxyError>) {
        subscriber.eventLoop.execute { subscriber.value.slicedProfileReady(result) }
    }
}
