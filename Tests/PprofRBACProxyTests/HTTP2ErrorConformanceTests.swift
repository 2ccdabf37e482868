import NIOCore
import NIOEmbedded
import Testing

@testable import PprofRBACProxy

@Suite("HTTP2ErrorConformance: connection errors name the last stream opened and close; §5.1 errors say STREAM_CLOSED")
struct HTTP2ErrorConformanceTests {
    static let frameSizeError: UInt32 = 0x6, protocolError: UInt32 = 0x1, streamClosed: UInt32 = 0x5

    /// A connection that has served one request on stream 1.
    func afterOneRequest(_ behaviour: HTTP2TestStreamBehaviour = .answer, front: (any ChannelHandler)? = nil) throws -> HTTP2TestConnection {
        let connection = try HTTP2TestConnection(behaviour, front: front)
        try connection.send([WireFrame.settingsFrame(ack: true), .request(stream: 1)], preface: true)
        let answered = try connection.received().contains { $0.type == WireFrame.headers && $0.stream == 1 }
        #expect(answered || behaviour != .answer)
        return connection
    }

    /// Expects the connection to stay open for `closeDelay` after its GOAWAY (reading and dropping
    /// what still comes, so the GOAWAY is not lost to a reset), then to close.
    func expectClosedAfterDelay(_ connection: HTTP2TestConnection, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try connection.send([.request(stream: 99)])
        #expect(try connection.received().isEmpty, "frames after the GOAWAY", sourceLocation: sourceLocation)
        connection.channel.embeddedEventLoop.advanceTime(by: HTTP2ErrorConformance.closeDelay - .milliseconds(1))
        #expect(connection.channel.isActive, sourceLocation: sourceLocation)
        connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!connection.channel.isActive, sourceLocation: sourceLocation)
    }

    func goAway(in frames: [WireFrame]) -> WireFrame? {
        let goAways = frames.filter { $0.type == WireFrame.goAway }
        #expect(goAways.count <= 1, "more than one GOAWAY: \(goAways)")
        return goAways.first
    }

    @Test("a PING of 6 bytes: GOAWAY FRAME_SIZE_ERROR naming stream 1 (not 2^31-1), then the connection closes a second later")
    func badPingLength() throws {
        let connection = try afterOneRequest()
        try connection.send([WireFrame(type: WireFrame.ping, payload: [0, 0, 0, 0, 0, 0])])
        let goAway = try #require(goAway(in: try connection.received()))
        #expect(goAway.secondWord == Self.frameSizeError)
        #expect(goAway.firstWord == 1)
        try expectClosedAfterDelay(connection)
    }

    @Test("a PING on a stream: GOAWAY PROTOCOL_ERROR naming stream 1, then the connection closes a second later")
    func pingOnStream() throws {
        let connection = try afterOneRequest()
        try connection.send([WireFrame(type: WireFrame.ping, stream: 1, payload: Array(repeating: 0, count: 8))])
        let goAway = try #require(goAway(in: try connection.received()))
        #expect(goAway.secondWord == Self.protocolError)
        #expect(goAway.firstWord == 1)
        try expectClosedAfterDelay(connection)
    }

    @Test("HEADERS on a stream that ended on both sides: GOAWAY STREAM_CLOSED naming it, then the connection closes a second later")
    func headersOnClosedStream() throws {
        let connection = try afterOneRequest()
        try connection.send([.request(stream: 1)])
        let goAway = try #require(goAway(in: try connection.received()))
        #expect(goAway.secondWord == Self.streamClosed)
        #expect(goAway.firstWord == 1)
        try expectClosedAfterDelay(connection)
    }

    @Test("HEADERS on a stream the client reset, all in one piece: GOAWAY STREAM_CLOSED naming it, then the connection closes a second later")
    func headersAfterClientReset() throws {
        let connection = try HTTP2TestConnection(.hold)
        try connection.send([.request(stream: 1, endStream: false), .reset(stream: 1), .request(stream: 1)], preface: true)
        let goAway = try #require(goAway(in: try connection.received()))
        #expect(goAway.secondWord == Self.streamClosed)
        #expect(goAway.firstWord == 1)
        try expectClosedAfterDelay(connection)
    }

    @Test("HEADERS again on a half-closed (remote) stream: RST_STREAM STREAM_CLOSED, and the connection serves on")
    func headersOnHalfClosedStream() throws {
        let connection = try HTTP2TestConnection(.hold)
        try connection.send([.request(stream: 1), .request(stream: 1)], preface: true)
        let resets = try connection.received().filter { $0.type == WireFrame.rstStream }
        #expect(resets.map(\.stream) == [1])
        #expect(resets.first?.firstWord == Self.streamClosed)
        #expect(connection.channel.isActive)
    }

    @Test("a malformed request is still reset with PROTOCOL_ERROR: only frames after the client's END_STREAM say STREAM_CLOSED")
    func malformedRequestKeepsProtocolError() throws {
        let connection = try HTTP2TestConnection(.hold)
        let uppercase = WireFrame.request(stream: 1, extra: [("X-Upper", "case")])
        try connection.send([uppercase], preface: true)
        let resets = try connection.received().filter { $0.type == WireFrame.rstStream }
        #expect(resets.map(\.stream) == [1])
        #expect(resets.first?.firstWord == Self.protocolError)
        #expect(connection.channel.isActive)
    }

    @Test("after the server reset a stream, the client's DATA on it is ignored; HEADERS on it end the connection with STREAM_CLOSED")
    func framesOnStreamTheServerReset() throws {
        let connection = try HTTP2TestConnection(.reset)
        try connection.send([.request(stream: 1, endStream: false)], preface: true)
        #expect(try connection.received().contains { $0.type == WireFrame.rstStream && $0.stream == 1 })
        try connection.send([WireFrame(type: WireFrame.data, stream: 1, payload: [1, 2, 3])])
        #expect(try connection.received().isEmpty)
        #expect(connection.channel.isActive)
        try connection.send([.request(stream: 1)])
        let goAway = try #require(goAway(in: try connection.received()))
        #expect(goAway.secondWord == Self.streamClosed)
        #expect(goAway.firstWord == 1)
        try expectClosedAfterDelay(connection)
    }

    @Test("HEADERS on a stream id the client skipped: NIOHTTP2's PROTOCOL_ERROR (an unexpected id), naming the highest opened")
    func headersOnSkippedStream() throws {
        let connection = try HTTP2TestConnection(.hold)
        try connection.send([.request(stream: 1), .request(stream: 5)], preface: true)
        try connection.send([.request(stream: 3)])
        let goAway = try #require(goAway(in: try connection.received()))
        #expect(goAway.secondWord == Self.protocolError)
        #expect(goAway.firstWord == 5)
        try expectClosedAfterDelay(connection)
    }

    @Test("a GOAWAY the client does not read does not keep the connection open either")
    func unreadGoAway() throws {
        let connection = try afterOneRequest(front: StalledWrites())
        try connection.send([.request(stream: 1)])
        #expect(goAway(in: try connection.received()) != nil)
        try expectClosedAfterDelay(connection)
    }

    @Test("ordinary traffic passes unchanged: many requests in one piece and dribbled byte by byte")
    func ordinaryTraffic() throws {
        let connection = try HTTP2TestConnection()
        let requests = (0..<10).map { WireFrame.request(stream: UInt32(2 * $0 + 1)) }
        try connection.send([WireFrame.settingsFrame(ack: true)] + requests, preface: true)
        let answered = try connection.received().filter { $0.type == WireFrame.headers }.map(\.stream)
        #expect(answered == requests.map(\.stream))

        let dribbled = (10..<13).map { WireFrame.request(stream: UInt32(2 * $0 + 1)) }
        try connection.sendBytes(dribbled.flatMap(\.bytes), pieceSize: 1)
        #expect(try connection.received().filter { $0.type == WireFrame.headers }.map(\.stream) == dribbled.map(\.stream))
        #expect(connection.channel.isActive)
    }
}
