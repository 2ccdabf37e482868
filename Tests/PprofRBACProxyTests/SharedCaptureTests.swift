import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("Captures through the one relay: the scheduler places them, the forwarder relays, joiners get a tee")
struct SharedCaptureTests {
    let clock = ManualClock()
    let loop = EmbeddedEventLoop()
    let scheduler: CaptureScheduler

    init() {
        scheduler = CaptureScheduler(
            configuration: .init(joinWindow: .seconds(2), queueTimeout: .seconds(60), queueSize: 2, maximumPerUser: 4),
            metrics: ProxyMetrics(), now: clock.now
        )
    }

    /// A client connection's capture and forwarding handlers, on the shared test loop.
    struct Client {
        let channel: EmbeddedChannel
        let end: ClientEnd
        let connector: FakeUpstreamConnector

        /// Everything written to the client so far.
        func received() throws -> [HTTPServerResponsePart] {
            var parts: [HTTPServerResponsePart] = []
            while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) { parts.append(part) }
            return parts
        }
    }

    func client(upstream exchanges: [FakeUpstreamExchange] = []) throws -> Client {
        let end = ClientEnd()
        let connector = FakeUpstreamConnector(exchanges)
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([
            end,
            CaptureHandler(scheduler: scheduler, isHTTP2: false, logger: Logger(label: "test")),
            ForwardingHandler(
                upstream: connector, target: UpstreamTarget(host: "127.0.0.1", port: 8081, basePath: "/"),
                identityHeaders: IdentityHeaders(), isHTTP2: false
            ),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 50000)).wait()
        return Client(channel: channel, end: end, connector: connector)
    }

    func requestProfile(_ client: Client, seconds: Int = 1) throws {
        let target = "/debug/pprof/profile?seconds=\(seconds)"
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target)
        let authorized = AuthorizedRequest(target: try RequestTarget(parsing: target), user: UserInfo(name: "alice"))
        try client.channel.writeInbound(AuthorizedRequestPart.head(head, authorized))
        try client.channel.writeInbound(AuthorizedRequestPart.end(nil))
        loop.run()
    }

    func respond(_ exchange: FakeUpstreamExchange, status: HTTPResponseStatus, body: String?, end: Bool = true) {
        exchange.delegate?.upstreamDidReceive(.head(HTTPResponseHead(version: .http1_1, status: status)))
        if let body {
            exchange.delegate?.upstreamDidReceive(.body(ByteBuffer(string: body)))
        }
        if end {
            exchange.delegate?.upstreamDidReceive(.end(nil))
        }
        loop.run()
    }

    func statuses(_ parts: [HTTPServerResponsePart]) -> [HTTPResponseStatus] {
        parts.compactMap { $0.head?.status }
    }

    @Test("a capture that starts is forwarded like any request: its latency is recorded, its response relayed")
    func startedCaptureIsForwarded() throws {
        let exchange = FakeUpstreamExchange()
        let leader = try client(upstream: [exchange])
        try requestProfile(leader)
        #expect(exchange.writtenHead?.uri == "/debug/pprof/profile?seconds=1")
        #expect(leader.end.participation == .started)
        #expect(scheduler.occupancy(.cpu) == (1, 0))
        respond(exchange, status: .ok, body: "profile")
        let parts = try leader.received()
        #expect(statuses(parts) == [.ok])
        #expect(parts.compactMap(\.bodyString) == ["profile"])
        #expect(parts.last?.isEnd == true)
        #expect(leader.end.upstreamResponded, "the upstream metrics count captures")
        #expect(exchange.finished == true)
        #expect(scheduler.occupancy(.cpu) == (0, 0))
    }

    @Test("a request that joins gets the same parts from the tee, without an upstream request of its own")
    func joinerGetsTheTee() throws {
        let exchange = FakeUpstreamExchange()
        let leader = try client(upstream: [exchange])
        try requestProfile(leader)
        respond(exchange, status: .ok, body: "early", end: false)
        let joiner = try client()
        try requestProfile(joiner)
        #expect(joiner.end.participation == .joined)
        #expect(joiner.connector.leases.isEmpty)
        exchange.delegate?.upstreamDidReceive(.body(ByteBuffer(string: "late")))
        exchange.delegate?.upstreamDidReceive(.end(nil))
        loop.run()
        let led = try leader.received()
        let joined = try joiner.received()
        #expect(statuses(joined) == [.ok])
        #expect(joined.compactMap(\.bodyString) == led.compactMap(\.bodyString))
        #expect(joined.compactMap(\.bodyString) == ["early", "late"])
        #expect(joined.last?.isEnd == true)
        #expect(!joiner.end.upstreamResponded, "only the request that went upstream has an upstream latency")
        #expect(scheduler.occupancy(.cpu) == (0, 0))
    }

    @Test("a request that waited goes upstream, flushed, once the running capture ends")
    func waiterGoesWhenItsTurnComes() throws {
        let running = FakeUpstreamExchange()
        let leader = try client(upstream: [running])
        try requestProfile(leader)
        let next = FakeUpstreamExchange()
        let waiter = try client(upstream: [next])
        try requestProfile(waiter, seconds: 2)
        #expect(waiter.connector.leases.isEmpty, "it waits in the proxy, not at pprof")
        #expect(scheduler.occupancy(.cpu) == (1, 1))
        respond(running, status: .ok, body: "first")
        #expect(next.writtenHead?.uri == "/debug/pprof/profile?seconds=2")
        #expect(next.unflushedParts == 0, "the request is flushed to the upstream, not left in its buffer")
        guard case .queued = waiter.end.participation else {
            Issue.record("expected queued, got \(String(describing: waiter.end.participation))")
            return
        }
        respond(next, status: .ok, body: "second")
        #expect(try waiter.received().compactMap(\.bodyString) == ["second"])
    }

    @Test("right after a capture was cut short, Go's 500 is not relayed: the request goes again and its 200 is")
    func settlingProfilerIsRetried() throws {
        let abandoned = FakeUpstreamExchange()
        let first = try client(upstream: [abandoned])
        try requestProfile(first)
        try first.channel.close().wait()
        loop.run()
        #expect(abandoned.finished == false, "the upstream request is closed, not reused")
        #expect(scheduler.isSettling(.cpu))

        let busy = FakeUpstreamExchange()
        let released = FakeUpstreamExchange()
        let second = try client(upstream: [busy, released])
        try requestProfile(second, seconds: 2)
        respond(busy, status: .internalServerError, body: "Could not enable CPU profiling: cpu profiling already in use\n")
        #expect(try second.received().isEmpty, "the 500 is not relayed")
        #expect(released.writtenHead == nil, "not sent again before the pause")

        loop.advanceTime(by: TimeAmount(CaptureHandler.retryPause))
        #expect(released.writtenHead?.uri == "/debug/pprof/profile?seconds=2")
        #expect(released.unflushedParts == 0, "the request sent again is flushed to the upstream, not left in its buffer")
        respond(released, status: .ok, body: "profile")
        let parts = try second.received()
        #expect(statuses(parts) == [.ok])
        #expect(parts.compactMap(\.bodyString) == ["profile"])
        #expect(scheduler.occupancy(.cpu) == (0, 0))
    }

    @Test("once the lane has settled, or when nothing was cut short, Go's 500 is relayed unchanged")
    func otherwise500IsRelayed() throws {
        let inUse = FakeUpstreamExchange()
        let fresh = try client(upstream: [inUse])
        try requestProfile(fresh)
        respond(inUse, status: .internalServerError, body: "in use\n")
        #expect(statuses(try fresh.received()) == [.internalServerError], "nobody was cut short: someone else holds the profiler")

        let abandoned = FakeUpstreamExchange()
        let first = try client(upstream: [abandoned])
        try requestProfile(first)
        try first.channel.close().wait()
        clock.advance(by: CaptureScheduler.settleTime)
        #expect(!scheduler.isSettling(.cpu))
        let busy = FakeUpstreamExchange()
        let late = try client(upstream: [busy])
        try requestProfile(late)
        respond(busy, status: .internalServerError, body: "in use\n")
        #expect(statuses(try late.received()) == [.internalServerError])
    }

    @Test("a joiner that reads slowly holds the upstream reads until it has caught up")
    func slowJoinerHoldsUpstream() throws {
        let exchange = FakeUpstreamExchange()
        let leader = try client(upstream: [exchange])
        try requestProfile(leader)
        let joiner = try client()
        joiner.end.holding = true
        try requestProfile(joiner)
        respond(exchange, status: .ok, body: nil, end: false)
        #expect(exchange.delegate?.acceptsResponseData == true)

        let chunk = String(repeating: "x", count: 64 * 1024)
        for _ in 0..<(SharedCapture.highWaterMark / chunk.utf8.count) {
            exchange.delegate?.upstreamDidReceive(.body(ByteBuffer(string: chunk)))
        }
        loop.run()
        #expect(exchange.delegate?.acceptsResponseData == false, "half a megabyte unread by the joiner")
        let resumedBefore = exchange.resumeCount

        joiner.end.release()
        loop.run()
        #expect(exchange.delegate?.acceptsResponseData == true)
        #expect(exchange.resumeCount == resumedBefore + 1, "the upstream is read again")
    }

    @Test("the starter's client leaving before the response: joiners are placed again; after it started: cut")
    func sourceLeaving() throws {
        let abandoned = FakeUpstreamExchange()
        let leader = try client(upstream: [abandoned])
        try requestProfile(leader)
        let replacement = FakeUpstreamExchange()
        let joiner = try client(upstream: [replacement])
        try requestProfile(joiner)
        #expect(joiner.end.participation == .joined)
        try leader.channel.close().wait()
        loop.run()
        #expect(abandoned.finished == false)
        #expect(replacement.writtenHead?.uri == "/debug/pprof/profile?seconds=1", "the joiner now starts its own capture")
        #expect(replacement.unflushedParts == 0)
        #expect(joiner.end.participation == .started)
        respond(replacement, status: .ok, body: "profile")
        #expect(statuses(try joiner.received()) == [.ok])

        clock.advance(by: CaptureScheduler.settleTime)
        let midway = FakeUpstreamExchange()
        let second = try client(upstream: [midway])
        try requestProfile(second)
        let cut = try client()
        try requestProfile(cut)
        respond(midway, status: .ok, body: "half", end: false)
        #expect(statuses(try cut.received()) == [.ok])
        try second.channel.close().wait()
        loop.run()
        #expect(!cut.channel.isActive, "a response that had started cannot be finished: the joiner's connection closes")
        #expect(scheduler.occupancy(.cpu) == (0, 0))
    }
}
