import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import PprofProfile
@testable import PprofRBACProxy

/// A slice source the test answers by hand: every slice asked for waits until the test says how it ended.
final class ScriptedSliceSource: ProfileSliceSource {
    private(set) var asked: [Int] = []
    private var pending: [(Result<[UInt8], ProfileSliceFailure>) -> Void] = []

    func fetchSlice(seconds: Int, _ completion: @escaping (Result<[UInt8], ProfileSliceFailure>) -> Void) {
        asked.append(seconds)
        pending.append(completion)
    }

    /// Slices asked for and not answered yet.
    var waiting: Int { pending.count }

    /// Ends the oldest slice asked for.
    func end(with result: Result<[UInt8], ProfileSliceFailure>) {
        pending.removeFirst()(result)
    }
}

/// A request as the slicer serves it: what it was told, in order.
final class RecordingSubscriber: SlicedProfileSubscriber {
    private(set) var assigned: ClosedRange<UInt64>?
    private(set) var merged: [Int] = []
    private(set) var result: Result<SlicedProfile, ProxyError>?

    var answered: Bool { result != nil }

    func slicesAssigned(_ slices: ClosedRange<UInt64>) { assigned = slices }
    func slicesMerged(_ done: Int, of: Int) { merged.append(done) }
    func slicedProfileReady(_ result: Result<SlicedProfile, ProxyError>) { self.result = result }

    /// The merged profile it received, decoded.
    func profile() throws -> Profile {
        guard case .success(let sliced) = result else { throw ProfileError.malformed("no profile was answered") }
        return try ProfileFile.decode(sliced.bytes)
    }
}

@Suite("CPUProfileSlicer: back-to-back slices while requests need them, each answered with its own window's merge")
struct CPUProfileSlicerTests {
    let loop = EmbeddedEventLoop()
    let source = ScriptedSliceSource()
    let metrics = ProxyMetrics()
    let slicer: CPUProfileSlicer

    init() {
        slicer = CPUProfileSlicer(configuration: .init(), source: source, eventLoop: loop, metrics: metrics, logger: Logger(label: "test"))
    }

    /// A CPU profile slice as Go would write it: `samples` samples of 10 ms in `main.work` and one
    /// in `main.idle`, taken from `start` (Unix nanoseconds) for `duration`.
    static func slice(start: Int64, duration: Int64 = 1_000_000_000, samples: Int64 = 3) -> [UInt8] {
        var profile = Profile()
        profile.strings = ["", "samples", "count", "cpu", "nanoseconds", "main.work", "main.idle"].map { Array($0.utf8) }
        profile.sampleTypes = [.init(type: 1, unit: 2), .init(type: 3, unit: 4)]
        profile.periodType = .init(type: 3, unit: 4)
        profile.period = 10_000_000
        profile.functions = [
            .init(id: 1, name: 5, systemName: 5, filename: 0, startLine: 0), .init(id: 2, name: 6, systemName: 6, filename: 0, startLine: 0),
        ]
        profile.locations = [
            .init(id: 1, mappingID: 0, address: 0x1000, lines: [.init(functionID: 1, line: 7, column: 0)], isFolded: false),
            .init(id: 2, mappingID: 0, address: 0x2000, lines: [.init(functionID: 2, line: 9, column: 0)], isFolded: false),
        ]
        profile.samples = [
            .init(locationIDs: [1], values: [samples, samples * 10_000_000], labels: []),
            .init(locationIDs: [2], values: [1, 10_000_000], labels: []),
        ]
        profile.timeNanos = start
        profile.durationNanos = duration
        return ProfileFile.encode(profile)
    }

    /// Slice `n` (from 1) of a run whose slices follow each other `gap` apart.
    static func slice(_ n: Int64, gap: Int64 = 2_000_000, samples: Int64 = 3) -> [UInt8] {
        slice(start: 1_700_000_000_000_000_000 + (n - 1) * (1_000_000_000 + gap), samples: samples)
    }

    func subscribe(_ id: UInt64, seconds: Int) -> RecordingSubscriber {
        let subscriber = RecordingSubscriber()
        slicer.subscribe(SlicedProfileSubscriberHandle(id: id, subscriber: NIOLoopBound(subscriber, eventLoop: loop)), seconds: seconds)
        loop.run()
        return subscriber
    }

    func end(_ result: Result<[UInt8], ProfileSliceFailure>) {
        source.end(with: result)
        loop.run()
    }

    func sampleTotal(_ profile: Profile) -> Int64 {
        profile.samples.reduce(0) { $0 + $1.values[0] }
    }

    @Test("the first request starts one-second slices; they stop once its window is in; its answer spans the window")
    func oneRequest() throws {
        let request = subscribe(1, seconds: 3)
        #expect(request.assigned == 1...3)
        #expect(source.asked == [1] && source.waiting == 1, "one slice at a time, one second each")
        for n in 1...3 {
            end(.success(Self.slice(Int64(n))))
        }
        #expect(source.asked.count == 3, "no fourth slice: nobody needs it")
        #expect(request.merged == [1, 2, 3])
        let profile = try request.profile()
        #expect(sampleTotal(profile) == 3 * 4, "every sample of the three slices, once")
        #expect(profile.samples.count == 2, "identical stacks summed")
        #expect(profile.timeNanos == 1_700_000_000_000_000_000, "the first slice's start")
        #expect(profile.durationNanos == 3_000_000_000 + 2 * 2_000_000, "to the last slice's end")
        guard case .success(let sliced) = request.result else { return }
        #expect(sliced.slices == 1...3)
        #expect(sliced.largestGap == .milliseconds(2))
        #expect(slicer.occupancy.requests == 0 && slicer.occupancy.runningSlice == nil)
        let exposition = MetricsExposition(metrics.exposition())
        #expect(exposition.value(#"pprof_rbac_proxy_cpu_profile_slices_total{result="ok"}"#) == 3)
        #expect(exposition.value("pprof_rbac_proxy_cpu_profile_slice_gap_seconds_count") == 2)
    }

    @Test("a request that comes while a slice runs starts with the next; requests of the same window share one merge")
    func overlapping() throws {
        let long = subscribe(1, seconds: 3)
        let short = subscribe(2, seconds: 2)
        let same = subscribe(3, seconds: 2)
        #expect(long.assigned == 1...3 && short.assigned == 2...3 && same.assigned == 2...3)
        #expect(source.waiting == 1, "still one slice at a time")
        end(.success(Self.slice(1, samples: 100)))
        #expect(short.merged.isEmpty, "slice 1 is not in the short window")
        end(.success(Self.slice(2)))
        end(.success(Self.slice(3)))
        #expect(source.asked.count == 3)
        #expect(sampleTotal(try long.profile()) == 101 + 4 + 4)
        #expect(sampleTotal(try short.profile()) == 4 + 4)
        guard case .success(let a) = short.result, case .success(let b) = same.result else {
            Issue.record("both short requests are answered")
            return
        }
        #expect(a.bytes == b.bytes)
        #expect(try short.profile().timeNanos == ProfileFile.decode(Self.slice(2)).timeNanos, "its window starts at slice 2")
    }

    @Test("a failed slice is a 502 for the windows that hold it, with the upstream's reason; other windows go on")
    func failedSlice() throws {
        let first = subscribe(1, seconds: 2)
        end(.success(Self.slice(1)))
        let second = subscribe(2, seconds: 2)
        #expect(second.assigned == 3...4, "slice 2 is running")
        end(.failure(.status(500, text: "Could not enable CPU profiling: cpu profiling already in use")))
        #expect(
            first.result?.failure
                == .badGateway("the upstream answered a CPU profile slice with 500: Could not enable CPU profiling: cpu profiling already in use"))
        #expect(source.waiting == 1, "slice 3 runs for the second window")
        end(.success(Self.slice(3)))
        end(.success(Self.slice(4)))
        #expect(sampleTotal(try second.profile()) == 8)
        let exposition = MetricsExposition(metrics.exposition())
        #expect(exposition.value(#"pprof_rbac_proxy_cpu_profile_slices_total{result="failed"}"#) == 1)
        #expect(exposition.value(#"pprof_rbac_proxy_cpu_profile_slices_total{result="ok"}"#) == 3)
        #expect(exposition.value("pprof_rbac_proxy_cpu_profile_slice_gap_seconds_count") == 1, "no gap is measured across a failed slice")
    }

    @Test("bytes that are not a profile, or a merge past the memory limit, are a 502 that says so", arguments: [false, true])
    func unreadable(overLimit: Bool) throws {
        let slicer = CPUProfileSlicer(
            configuration: .init(sliceSeconds: 1, mergeMemoryLimit: overLimit ? 100 : 64 << 20), source: source, eventLoop: loop,
            metrics: metrics, logger: Logger(label: "test")
        )
        let request = RecordingSubscriber()
        slicer.subscribe(SlicedProfileSubscriberHandle(id: 1, subscriber: NIOLoopBound(request, eventLoop: loop)), seconds: 2)
        loop.run()
        end(.success(overLimit ? Self.slice(1) : Array("\u{1f}\u{8b} not a profile".utf8)))
        guard case .failure(.badGateway(let reason)) = request.result else {
            Issue.record("a 502, not \(String(describing: request.result))")
            return
        }
        let expected = overLimit ? "a CPU profile slice from the upstream does not merge: " : "a CPU profile slice from the upstream is "
        #expect(reason.hasPrefix(expected), "\(reason)")
        end(.success(Self.slice(2)))
        #expect(source.asked.count == 2 && source.waiting == 0, "the slice already running ends; none follows")
    }

    @Test("a request whose client leaves is taken out: the running slice ends, none follows for it")
    func unsubscribe() throws {
        let leaving = subscribe(1, seconds: 30)
        #expect(slicer.occupancy.requests == 1)
        slicer.unsubscribe(1)
        #expect(slicer.occupancy.requests == 0)
        end(.success(Self.slice(1)))
        #expect(source.asked.count == 1 && source.waiting == 0)
        #expect(!leaving.answered && leaving.merged.isEmpty)
        let next = subscribe(2, seconds: 2)
        #expect(next.assigned == 2...3, "slice numbers go on")
        end(.success(Self.slice(2)))
        end(.success(Self.slice(3)))
        #expect(sampleTotal(try next.profile()) == 8)
        let gaps = MetricsExposition(metrics.exposition()).value("pprof_rbac_proxy_cpu_profile_slice_gap_seconds_count")
        #expect(gaps == 1, "the pause while slicing had stopped is no gap; only the one between slices 2 and 3 counts")
    }
}

extension Result {
    /// The error, or nil on success.
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
