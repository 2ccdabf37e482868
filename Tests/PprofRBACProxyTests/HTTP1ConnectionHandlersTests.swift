import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import PprofRBACProxy

@Suite("HTTP/1.1 connection handlers: parse errors answered 400 or 431, Connection: close honoured")
struct HTTP1ConnectionHandlersTests {
    /// Everything the connection wrote back for `request`.
    func exchange(_ request: String, on channel: EmbeddedChannel) -> String {
        _ = try? channel.writeInbound(ByteBuffer(string: request))
        var response = ""
        while let bytes = try? channel.readOutbound(as: ByteBuffer.self) {
            response += String(buffer: bytes)
        }
        return response
    }

    @Test("a header block over the limit, in one field or many: 431 and the connection closes", arguments: [
        "X-Big: " + String(repeating: "a", count: HTTPRequestLimits.maximumHeaderBytes) + "\r\n",
        String(repeating: "X-Many: a\r\n", count: HTTPRequestLimits.maximumHeaderFields + 1),
    ])
    func headerBlockTooLarge(headers: String) throws {
        let channel = try HTTP1TestConnection.make()
        let response = exchange("GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\(headers)\r\n", on: channel)
        #expect(response.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(response.prefix(200))")
        #expect(response.contains("\r\nconnection: close\r\n"))
        #expect(!channel.isActive)
    }

    @Test("a 1 MiB bearer token is within the limit (Go's MaxHeaderBytes), so it reaches the authenticator")
    func megabyteTokenIsRead() throws {
        let channel = try HTTP1TestConnection.make()
        let token = String(repeating: "t", count: 1 << 20)
        let response = exchange("GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n", on: channel)
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response.prefix(200))")
    }

    @Test("framing the decoder refuses is a 400 naming the parse error, never a token, and the connection closes", arguments: [
        "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "Content-Length: -1\r\n\r\n",
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        "Authorization: Bearer secret-token\r\nX-Folded: a\r\n b\r\n\r\n",
    ])
    func malformedFraming(headers: String) throws {
        let channel = try HTTP1TestConnection.make()
        let response = exchange("POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(headers)", on: channel)
        #expect(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(response.prefix(300))")
        #expect(response.contains("Bad Request: malformed HTTP/1.1 request ("))
        #expect(!response.contains("secret-token"))
        #expect(!channel.isActive)
    }

    /// Answers the last request head only when the test says so, as the gate does after a decision.
    final class LateResponder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private var context: ChannelHandlerContext?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head = unwrapInboundIn(data) { self.context = context }
        }

        func respond() -> EventLoopFuture<Void>? {
            guard let context else { return nil }
            let head = HTTPResponseHead(version: .http1_1, status: .forbidden, headers: ["content-length": "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            return context.writeAndFlush(wrapOutboundOut(.end(nil)))
        }
    }

    /// Holds the connection open after close is asked, as TLS does while it waits for the peer's close_notify.
    final class SlowClose: ChannelOutboundHandler {
        typealias OutboundIn = Any

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {}
    }

    @Test("a response arriving after a parse error was answered is dropped, not written as a second response")
    func lateResponseAfterParseError() throws {
        let responder = LateResponder()
        let channel = try HTTP1TestConnection.make(responder: responder, front: SlowClose())

        let response = exchange("POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", on: channel)
        #expect(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(response)")

        #expect(channel.isActive, "closing waits for TLS")
        let late = try #require(responder.respond())
        #expect(throws: ChannelError.self) { try late.wait() }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test("Connection: close and HTTP/1.0 without keep-alive: the response says close, then the connection closes", arguments: [
        "GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /debug/pprof/ HTTP/1.0\r\n\r\n",
    ])
    func closeRequested(request: String) throws {
        let channel = try HTTP1TestConnection.make()
        let response = exchange(request, on: channel)
        #expect(response.contains(" 200 OK\r\n") && response.contains("\r\nconnection: close\r\n"), "\(response)")
        #expect(!channel.isActive)
    }

    @Test("keep-alive requests (HTTP/1.1 default, HTTP/1.0 with keep-alive) leave the connection open", arguments: [
        "GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /debug/pprof/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ])
    func keepAlive(request: String) throws {
        let channel = try HTTP1TestConnection.make()
        let response = exchange(request, on: channel)
        #expect(response.contains(" 200 OK\r\n") && !response.lowercased().contains("connection: close"), "\(response)")
        #expect(channel.isActive)
    }
}
