import NIOCore
import Testing

@testable import PprofRBACProxy

@Suite("HTTP2SettingsAtOnce: the proxy's HTTP/2 limits hold from the client's first frame, not from its acknowledgement")
struct HTTP2SettingsAtOnceTests {
    /// A request whose head is larger than NIOHTTP2's 16 KiB default and far below the proxy's limit.
    static let largeRequest = WireFrame.request(stream: 1, extra: [("x-large", String(repeating: "a", count: 30_000))]).split()

    @Test("NIOHTTP2 alone refuses a 30 kB head sent before the client has acknowledged the proxy's SETTINGS (why the handler exists)")
    func nioAloneRefuses() throws {
        let connection = try HTTP2TestConnection(corrections: false)
        try connection.send(Self.largeRequest, preface: true)
        #expect(try connection.received().contains { $0.type == WireFrame.goAway })
    }

    @Test("with it, that request is answered, whether it comes in one piece or byte by byte, and the client's own acknowledgement later is harmless",
          arguments: [Int.max, 1, 7, 1000])
    func largeHeadBeforeAcknowledgement(pieceSize: Int) throws {
        let connection = try HTTP2TestConnection()
        let bytes = WireFrame.preface + WireFrame.settingsFrame().bytes + Self.largeRequest.flatMap(\.bytes)
            + WireFrame.settingsFrame(ack: true).bytes + WireFrame.request(stream: 3).bytes
        try connection.sendBytes(bytes, pieceSize: pieceSize)
        let frames = try connection.received()
        #expect(frames.filter { $0.type == WireFrame.headers }.map(\.stream) == [1, 3])
        #expect(!frames.contains { $0.type == WireFrame.goAway }, "\(frames)")
        #expect(connection.channel.isActive)
        #expect(throws: ChannelPipelineError.notFound) {
            try connection.channel.pipeline.syncOperations.context(handlerType: HTTP2SettingsAtOnce.self)
        }
    }

    @Test("a head over the proxy's own limit is still refused at once")
    func overTheLimit() throws {
        let connection = try HTTP2TestConnection()
        let huge = WireFrame.request(stream: 1, extra: [("x-huge", String(repeating: "a", count: HTTPRequestLimits.http2HeaderListSize))])
        try connection.send(huge.split(), preface: true)
        #expect(try connection.received().contains { $0.type == WireFrame.goAway })
    }

    @Test("a connection that does not start with SETTINGS is left to NIOHTTP2, which refuses it")
    func noSettingsFirst() throws {
        let connection = try HTTP2TestConnection()
        try connection.sendBytes(WireFrame.preface + WireFrame.request(stream: 1).bytes)
        #expect(try connection.received().contains { $0.type == WireFrame.goAway })
    }
}
