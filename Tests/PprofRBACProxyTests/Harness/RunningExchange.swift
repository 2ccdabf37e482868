import NIOCore

@testable import PprofRBACProxy

/// An upstream exchange a test started: its response so far, and what a downstream client could do
/// to it (stop reading, read again, leave).
struct RunningExchange: Sendable {
    let recorder: NIOLoopBound<ResponseRecorder>
    let response: EventLoopFuture<CollectedResponse>

    private var eventLoop: any EventLoop { response.eventLoop }

    /// Whether the response head has arrived.
    func headReceived() async throws -> Bool {
        try await eventLoop.submit { recorder.value.headReceived }.get()
    }

    /// How many body bytes reached the delegate so far.
    func bodyBytesReceived() async throws -> Int {
        try await eventLoop.submit { recorder.value.bodyBytesReceived }.get()
    }

    /// Starts taking response data again after it was refused.
    func resume() async throws {
        try await eventLoop.submit { recorder.value.resume() }.get()
    }

    /// Leaves the exchange as a client that goes away does: the connection (or stream) is closed.
    func abandon() async throws {
        try await eventLoop.submit { recorder.value.abandon() }.get()
    }

    /// Waits for the whole response.
    func complete() async throws -> CollectedResponse {
        try await response.get()
    }
}
