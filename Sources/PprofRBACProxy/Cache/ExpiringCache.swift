import DequeModule
import NIOConcurrencyHelpers

/// How a cached lookup was answered.
package enum CacheOutcome: Sendable, Hashable {
    /// From a stored, unexpired entry.
    case hit
    /// By running the load (or joining a load already running for the same key).
    case miss
}

/// A size-bounded map whose entries expire; concurrent misses for one key share a single load, and
/// a load that throws is never stored.
package final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// Reads a monotonic clock; injectable so tests can move time.
    package typealias Now = @Sendable () -> ContinuousClock.Instant

    private struct Entry {
        var value: Value
        var expiry: ContinuousClock.Instant
        var generation: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var insertionOrder: Deque<(key: Key, generation: UInt64)> = []
        var nextGeneration: UInt64 = 0
        var loads: [Key: Task<Value, any Error>] = [:]
    }

    private let capacity: Int
    private let now: Now
    private let state = NIOLockedValueBox(State())

    package init(capacity: Int, now: @escaping Now = { ContinuousClock.now }) {
        precondition(capacity > 0, "an ExpiringCache needs room for at least one entry")
        self.capacity = capacity
        self.now = now
    }

    /// The number of stored entries, expired or not.
    package var count: Int {
        state.withLockedValue { $0.entries.count }
    }

    /// The stored value for `key`, or the result of `load`. `timeToLive` says how long a loaded value
    /// stays valid; `.zero` or less means it is not stored at all.
    package func value(
        for key: Key,
        timeToLive: @escaping @Sendable (Value) -> Duration,
        load: @escaping @Sendable () async throws -> Value
    ) async throws -> (value: Value, outcome: CacheOutcome) {
        let lookup: Lookup = state.withLockedValue { locked in
            if let entry = locked.entries[key] {
                if entry.expiry > now() {
                    return .stored(entry.value)
                }
                locked.entries[key] = nil
            }
            if let running = locked.loads[key] {
                return .loading(running)
            }
            let loading = Task { [self] in
                do {
                    let value = try await load()
                    store(value, for: key, timeToLive: timeToLive(value))
                    return value
                } catch {
                    self.state.withLockedValue { $0.loads[key] = nil }
                    throw error
                }
            }
            locked.loads[key] = loading
            return .loading(loading)
        }
        switch lookup {
        case .stored(let value):
            return (value, .hit)
        case .loading(let task):
            return (try await task.value, .miss)
        }
    }

    /// The stored, unexpired value for `key`, without loading anything.
    package func storedValue(for key: Key) -> Value? {
        state.withLockedValue { locked in
            guard let entry = locked.entries[key], entry.expiry > now() else { return nil }
            return entry.value
        }
    }

    private enum Lookup {
        case stored(Value)
        case loading(Task<Value, any Error>)
    }

    private func store(_ value: Value, for key: Key, timeToLive: Duration) {
        state.withLockedValue { state in
            state.loads[key] = nil
            guard timeToLive > .zero else { return }
            let generation = state.nextGeneration
            state.nextGeneration += 1
            state.entries[key] = Entry(value: value, expiry: now() + timeToLive, generation: generation)
            state.insertionOrder.append((key, generation))
            evictOldest(&state)
        }
    }

    /// Drops the oldest entries beyond capacity and forgets order records of replaced entries.
    private func evictOldest(_ state: inout State) {
        while state.entries.count > capacity, let oldest = state.insertionOrder.popFirst() {
            if state.entries[oldest.key]?.generation == oldest.generation {
                state.entries[oldest.key] = nil
            }
        }
        if state.insertionOrder.count > 2 * capacity {
            state.insertionOrder.removeAll { state.entries[$0.key]?.generation != $0.generation }
        }
    }
}
