import NIOConcurrencyHelpers
import NIOCore

/// The open client connections, so that shutdown can ask them to finish and wait until they have.
final class ConnectionRegistry: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: (channel: any Channel, serving: Bool)] = [:]
        var waiters: [CheckedContinuation<Void, Never>] = []
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
                defer { state.waiters = [] }
                return state.waiters
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

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let empty = state.withLockedValue { state in
                if state.connections.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if empty { continuation.resume() }
        }
    }
}
