import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import PprofRBACProxy

/// Sits at the head of a test pipeline and counts the `read()` calls that get through.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any

    let reads: NIOLockedValueBox<Int>

    init(reads: NIOLockedValueBox<Int>) {
        self.reads = reads
    }

    func read(context: ChannelHandlerContext) {
        reads.withLockedValue { $0 += 1 }
        context.read()
    }
}

/// Sits at the head of a test pipeline: records the events sent toward the exchange recorder, and
/// holds the promises of writes while `holding`, as a client that reads slowly would.
final class ClientEnd: ChannelOutboundHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private(set) var events: [Any] = []
    var holding = false
    private var held: [EventLoopPromise<Void>] = []

    var upstreamResponded: Bool { events.contains { $0 is UpstreamRespondedEvent } }
    var participation: ExchangeRecord.CaptureParticipation? {
        events.lazy.compactMap { ($0 as? CaptureScheduledEvent)?.participation }.last
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        events.append(event)
        promise?.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard holding else {
            context.write(data, promise: promise)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        held.append(written)
        context.write(data, promise: nil)
        written.futureResult.cascade(to: promise)
    }

    /// The client reads everything it was sent.
    func release() {
        holding = false
        let promises = held
        held.removeAll()
        for promise in promises { promise.succeed() }
    }
}

/// A scripted upstream connection: records what the forwarder writes and how the exchange ended.
final class FakeUpstreamExchange: UpstreamExchange, @unchecked Sendable {
    var isWritable = true
    let wasReused: Bool
    private(set) var written: [HTTPClientRequestPart] = []
    private(set) var finished: Bool?
    /// Parts written since the last flush: still in the connection's buffer, not on the wire.
    private(set) var unflushedParts = 0
    private(set) var resumeCount = 0
    weak var delegate: (any UpstreamResponseDelegate)?

    init(wasReused: Bool = false) {
        self.wasReused = wasReused
    }

    func begin(delegate: any UpstreamResponseDelegate) { self.delegate = delegate }
    func write(_ part: HTTPClientRequestPart) {
        written.append(part)
        unflushedParts += 1
    }
    func flush() { unflushedParts = 0 }
    func resumeReading() { resumeCount += 1 }
    func finish(reusable: Bool) { finished = reusable }

    var writtenHead: HTTPRequestHead? {
        written.lazy.compactMap { if case .head(let head) = $0 { head } else { nil } }.first
    }
}

/// Hands out scripted connections in order, on the test channel's loop.
final class FakeUpstreamConnector: UpstreamConnector, @unchecked Sendable {
    var exchanges: [FakeUpstreamExchange]
    private(set) var leases: [Bool] = []

    init(_ exchanges: [FakeUpstreamExchange]) {
        self.exchanges = exchanges
    }

    func lease(
        on eventLoop: any EventLoop, fresh: Bool,
        _ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void
    ) {
        leases.append(fresh)
        guard !exchanges.isEmpty else {
            completion(.failure(.connectFailed("connection refused")))
            return
        }
        completion(.success(exchanges.removeFirst()))
    }
}

extension HTTPServerResponsePart {
    var head: HTTPResponseHead? { if case .head(let head) = self { head } else { nil } }
    var bodyString: String? {
        if case .body(.byteBuffer(let buffer)) = self { String(buffer: buffer) } else { nil }
    }
    var isEnd: Bool { if case .end = self { true } else { false } }
    var bodyBytes: [UInt8]? {
        if case .body(.byteBuffer(let buffer)) = self { Array(buffer.readableBytesView) } else { nil }
    }
}

extension NIOAsyncTestingChannel {
    /// Runs the test event loop until something reaches the end of the pipeline (work completed off
    /// the loop, like a gate decision, only lands when the loop runs).
    func nextInbound<T: Sendable>(as type: T.Type = T.self, timeout: Duration = .seconds(30)) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            await testingEventLoop.run()
            if let part = try await readInbound(as: type) { return part }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw TestTimeout(waitingFor: "an inbound \(type)")
    }

    /// Runs the test event loop until the pipeline writes something.
    func nextOutbound<T: Sendable>(as type: T.Type = T.self, timeout: Duration = .seconds(30)) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            await testingEventLoop.run()
            if let part = try await readOutbound(as: type) { return part }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw TestTimeout(waitingFor: "an outbound \(type)")
    }
}

/// A condition a test waited for did not come true in time.
struct TestTimeout: Error {
    let waitingFor: String
}
