import NIOConcurrencyHelpers
import NIOCore

/// The open client connections, so that shutdown can ask them to finish and wait until they have.
final class ConnectionRegistry: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: (channel: any Channel, serving: Bool)] = [:]
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// Waiters cancelled before they were registered.
        var cancelledWaiters: Set<Int> = []
    }

    private let state = NIOLockedValueBox(State())
    /// Runs each time the last open connection closes.
    private let whenEmpty: @Sendable () -> Void

    init(whenEmpty: @escaping @Sendable () -> Void = {}) {
        self.whenEmpty = whenEmpty
    }

    var count: Int {
        state.withLockedValue { $0.connections.count }
    }

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { $0.connections[id] = (channel, false) }
        channel.closeFuture.whenComplete { [self] _ in
            let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>]? in
                state.connections[id] = nil
                guard state.connections.isEmpty else { return nil }
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            guard let waiters else { return }
            waiters.forEach { $0.resume() }
            whenEmpty()
        }
    }

    /// Marks a connection as speaking HTTP, so it can finish its requests before closing.
    func markServing(_ channel: any Channel) {
        state.withLockedValue { $0.connections[ObjectIdentifier(channel)]?.serving = true }
    }

    /// Asks serving connections to close once their requests are done (HTTP/2: GOAWAY) and closes
    /// the ones still negotiating TLS.
    func quiesce() {
        for (channel, serving) in state.withLockedValue({ Array($0.connections.values) }) {
            if serving {
                channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            } else {
                channel.close(promise: nil)
            }
        }
    }

    func closeAll() {
        for (channel, _) in state.withLockedValue({ Array($0.connections.values) }) {
            channel.close(promise: nil)
        }
    }

    /// Returns once no connection is open, or once the calling task is cancelled.
    func waitUntilEmpty() async {
        let waiter = state.withLockedValue { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLockedValue { state in
                    if state.connections.isEmpty || state.cancelledWaiters.remove(waiter) != nil { return true }
                    state.waiters[waiter] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLockedValue { state in
                guard let continuation = state.waiters.removeValue(forKey: waiter) else {
                    state.cancelledWaiters.insert(waiter)
                    return nil as CheckedContinuation<Void, Never>?
                }
                return continuation
            }
            continuation?.resume()
        }
    }
}
