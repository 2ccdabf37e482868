import NIOConcurrencyHelpers
import Testing

@testable import PprofRBACProxy

@Suite("ExpiringCache: TTL, coalescing, errors, bounds")
struct ExpiringCacheTests {
    @Test("a stored value is a hit until its time to live has passed")
    func expiry() async throws {
        let clock = ManualClock()
        let cache = ExpiringCache<String, Int>(capacity: 10, now: clock.now)
        let loads = NIOLockedValueBox(0)
        func lookup() async throws -> (value: Int, outcome: CacheOutcome) {
            try await cache.value(for: "k", timeToLive: { _ in .seconds(30) }) {
                loads.withLockedValue { $0 += 1; return $0 }
            }
        }
        #expect(try await lookup() == (1, .miss))
        clock.advance(by: .seconds(29))
        #expect(try await lookup() == (1, .hit))
        clock.advance(by: .seconds(1))
        #expect(try await lookup() == (2, .miss))
        #expect(loads.withLockedValue { $0 } == 2)
    }

    @Test("50 concurrent misses for one key make one load")
    func coalescing() async throws {
        let cache = ExpiringCache<String, Int>(capacity: 10)
        let loads = NIOLockedValueBox(0)
        let gate = LoadGate()
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await cache.value(for: "k", timeToLive: { _ in .seconds(60) }) {
                        loads.withLockedValue { $0 += 1 }
                        await gate.wait()
                        return 7
                    }.value
                }
            }
            while loads.withLockedValue({ $0 }) == 0 { await Task.yield() }
            gate.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: 7, count: 50))
        #expect(loads.withLockedValue { $0 } == 1)
    }

    @Test("a failed load is not stored: the next lookup loads again")
    func errorsAreNotCached() async throws {
        let cache = ExpiringCache<String, Int>(capacity: 10)
        await #expect(throws: TestFailure.self) {
            try await cache.value(for: "k", timeToLive: { _ in .seconds(60) }) { throw TestFailure() }
        }
        #expect(cache.count == 0)
        #expect(try await cache.value(for: "k", timeToLive: { _ in .seconds(60) }) { 3 } == (3, .miss))
        #expect(try await cache.value(for: "k", timeToLive: { _ in .seconds(60) }) { 4 } == (3, .hit))
    }

    @Test("a zero time to live means not stored")
    func zeroTimeToLive() async throws {
        let cache = ExpiringCache<String, Int>(capacity: 10)
        _ = try await cache.value(for: "k", timeToLive: { _ in .zero }) { 1 }
        #expect(cache.count == 0)
    }

    @Test("never holds more than its capacity; the oldest entries go first")
    func bounded() async throws {
        let cache = ExpiringCache<Int, Int>(capacity: 3)
        for key in 0..<100 {
            _ = try await cache.value(for: key, timeToLive: { _ in .seconds(60) }) { key }
            _ = try await cache.value(for: 99 - key % 3, timeToLive: { _ in .seconds(60) }) { key }
            #expect(cache.count <= 3)
        }
        #expect(try await cache.value(for: 99, timeToLive: { _ in .seconds(60) }) { -1 }.outcome == .hit)
        #expect(try await cache.value(for: 0, timeToLive: { _ in .seconds(60) }) { -1 }.outcome == .miss)
    }
}
