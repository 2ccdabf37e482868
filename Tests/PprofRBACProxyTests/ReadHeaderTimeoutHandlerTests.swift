import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import PprofRBACProxy

@Suite("ReadHeaderTimeoutHandler: request heads must arrive in time; idle keep-alive and bodies are not timed")
struct ReadHeaderTimeoutHandlerTests {
    func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Expects `channel` to stay open until `time` has passed, and to be closed then.
    func expectClosed(after time: TimeAmount, _ channel: EmbeddedChannel, sourceLocation: SourceLocation = #_sourceLocation) {
        channel.embeddedEventLoop.advanceTime(by: time - .milliseconds(1))
        #expect(channel.isActive, "closed before its time", sourceLocation: sourceLocation)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive, "not closed at its time", sourceLocation: sourceLocation)
    }

    @Test("a connection that sends nothing (no TLS hello, no request) is closed when the time is up, not before")
    func silentConnection() throws {
        let channel = try HTTP1TestConnection.make(front: ReadHeaderTimeoutHandler(timeout: .seconds(10)))
        expectClosed(after: .seconds(10), channel)
    }

    @Test("the first request's time starts at accept: dribbling its head does not restart the clock")
    func slowlorisFirstRequest() throws {
        let channel = try HTTP1TestConnection.make(front: ReadHeaderTimeoutHandler(timeout: .seconds(10)))
        for byte in "GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris/1.0 (one byte every 200 ms)\r\n" {
            try send(String(byte), to: channel)
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
            if !channel.isActive { break }
        }
        #expect(!channel.isActive)
    }

    @Test("after a response, an idle keep-alive connection stays open; the next request's first byte starts its clock")
    func keepAliveThenSlowSecondRequest() throws {
        let channel = try HTTP1TestConnection.make(front: ReadHeaderTimeoutHandler(timeout: .seconds(10)))
        try send("GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        let response = try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } ?? ""
        #expect(response.hasPrefix("HTTP/1.1 200 OK"))

        channel.embeddedEventLoop.advanceTime(by: .hours(1))
        #expect(channel.isActive)

        try send("GET /debug/pprof/heap HTTP/1.1\r\n", to: channel)
        expectClosed(after: .seconds(10), channel)
    }

    @Test("a request that starts while the first request's timer is still pending gets its own full time")
    func secondRequestWithinTheFirstTimersPeriod() throws {
        let channel = try HTTP1TestConnection.make(front: ReadHeaderTimeoutHandler(timeout: .seconds(10)))
        try send("GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        _ = try channel.readOutbound(as: ByteBuffer.self)
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        try send("GET /debug/pprof/heap HTTP/1.1\r\n", to: channel)
        // The timer set at accept fires at 10 s; this head is due at 18 s.
        expectClosed(after: .seconds(10), channel)
    }

    @Test("many quick requests on one connection, then a silent one: closed on that one's time, not before")
    func manyRequestsThenSilence() throws {
        let channel = try HTTP1TestConnection.make(front: ReadHeaderTimeoutHandler(timeout: .seconds(10)))
        for _ in 0..<30 {
            try send("GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
            _ = try channel.readOutbound(as: ByteBuffer.self)
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            #expect(channel.isActive)
        }
        try send("G", to: channel)
        expectClosed(after: .seconds(10), channel)
    }

    @Test("once the head is read, a slow body or a long response is not timed")
    func headReadStopsTheClock() throws {
        let channel = try HTTP1TestConnection.make(front: ReadHeaderTimeoutHandler(timeout: .seconds(10)))
        try send("POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n0x", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .minutes(5))
        #expect(channel.isActive)
        try send("12", to: channel)
        #expect(channel.isActive)
    }

    @Test("the HTTP/2 preface ends the handler's job: it leaves the pipeline and closes nothing")
    func http2PrefaceRead() throws {
        let channel = EmbeddedChannel(handler: ReadHeaderTimeoutHandler(timeout: .seconds(10)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()
        channel.pipeline.triggerUserOutboundEvent(RequestHeadProgress.http2PrefaceRead, promise: nil)
        channel.embeddedEventLoop.advanceTime(by: .hours(1))
        #expect(channel.isActive)
        #expect(throws: ChannelPipelineError.notFound) {
            try channel.pipeline.syncOperations.context(handlerType: ReadHeaderTimeoutHandler.self)
        }
    }
}
