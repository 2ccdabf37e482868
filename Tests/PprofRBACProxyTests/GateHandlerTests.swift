import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("GateHandler: nothing passes before the decision")
struct GateHandlerTests {
    let alice = UserInfo(name: "alice", groups: ["system:authenticated"])

    func makeChannel(allowed: Set<String> = ["alice get /debug/pprof/heap", "alice post /debug/pprof/symbol"]) async throws -> (NIOAsyncTestingChannel, NIOLockedValueBox<Int>, LoadGate) {
        let gateOpen = LoadGate()
        let authenticator = GatedAuthenticator(users: ["alice-token": alice], gate: gateOpen)
        let gate = Gate(
            pathPolicy: .pprofOnly(), authenticator: authenticator,
            authorizer: RecordingAuthorizer(allowed: allowed), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let reads = NIOLockedValueBox(0)
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers([ReadCounter(reads: reads), GateHandler(gate: gate, isHTTP2: false)])
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443))
        return (channel, reads, gateOpen)
    }

    func head(_ method: HTTPMethod = .GET, _ uri: String, token: String? = "alice-token", extra: [(String, String)] = []) -> HTTPServerRequestPart {
        var headers = HTTPHeaders(extra)
        if let token { headers.add(name: "authorization", value: "Bearer \(token)") }
        return .head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers))
    }

    @Test("holds reads and parts until allowed, then passes head, body and end in order")
    func allowedInOrder() async throws {
        let (channel, reads, gateOpen) = try await makeChannel()
        try await channel.writeInbound(head(.POST, "/debug/pprof/%73ymbol?0x1+0x2"))
        try await channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "0x3")))
        channel.read()
        #expect(reads.withLockedValue { $0 } == 0)
        #expect(try await channel.readInbound(as: AuthorizedRequestPart.self) == nil)

        gateOpen.open()
        guard case .head(let forwarded, let authorized) = try await channel.nextInbound(as: AuthorizedRequestPart.self) else {
            Issue.record("expected the head first")
            return
        }
        #expect(authorized.target.path == "/debug/pprof/symbol")
        #expect(authorized.target.rawQuery == "0x1+0x2")
        #expect(authorized.user == alice)
        #expect(forwarded.method == .POST)
        guard case .body(let body) = try await channel.nextInbound(as: AuthorizedRequestPart.self) else {
            Issue.record("expected the buffered body next")
            return
        }
        #expect(String(buffer: body) == "0x3")
        #expect(reads.withLockedValue { $0 } == 1)
        try await channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .end = try await channel.nextInbound(as: AuthorizedRequestPart.self) else {
            Issue.record("expected the end")
            return
        }
        #expect(try await channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }

    @Test("a refused request gets the error response and nothing passes on")
    func refused() async throws {
        let (channel, _, gateOpen) = try await makeChannel()
        try await channel.writeInbound(head(.GET, "/debug/pprof/heap", token: "wrong"))
        try await channel.writeInbound(HTTPServerRequestPart.end(nil))
        gateOpen.open()
        let responseHead = try await channel.nextOutbound(as: HTTPServerResponsePart.self).head
        #expect(responseHead?.status == .unauthorized)
        #expect(responseHead?.headers["x-go-pprof"] == ["1"])
        #expect(responseHead?.headers["x-content-type-options"] == ["nosniff"])
        #expect(responseHead?.headers["content-type"] == ["text/plain; charset=utf-8"])
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).bodyString == "Unauthorized\n")
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).isEnd)
        #expect(try await channel.readInbound(as: AuthorizedRequestPart.self) == nil)
        #expect(channel.isActive, "a refused request without a body keeps the connection")
    }

    @Test("a refused request whose body was not read closes the connection after the answer")
    func refusedWithUnreadBody() async throws {
        let (channel, _, gateOpen) = try await makeChannel()
        try await channel.writeInbound(head(.POST, "/debug/pprof/heap", extra: [("content-length", "100")]))
        gateOpen.open()
        let responseHead = try await channel.nextOutbound(as: HTTPServerResponsePart.self).head
        #expect(responseHead?.status == .forbidden)
        #expect(responseHead?.headers["connection"] == ["close"])
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).bodyString?.hasPrefix("Forbidden") == true)
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).isEnd)
        await channel.testingEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("Expect: 100-continue is answered only after authorization")
    func expectContinue() async throws {
        let (channel, _, gateOpen) = try await makeChannel()
        try await channel.writeInbound(head(.POST, "/debug/pprof/symbol", extra: [("expect", "100-continue"), ("content-length", "3")]))
        #expect(try await channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        gateOpen.open()
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).head?.status == .continue)
        guard case .head = try await channel.nextInbound(as: AuthorizedRequestPart.self) else {
            Issue.record("expected the head")
            return
        }
    }

    @Test("a denied Expect: 100-continue request gets no 100, only the refusal")
    func expectContinueRefused() async throws {
        let (channel, _, gateOpen) = try await makeChannel(allowed: [])
        gateOpen.open()
        try await channel.writeInbound(head(.POST, "/debug/pprof/symbol", extra: [("expect", "100-continue"), ("content-length", "3")]))
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).head?.status == .forbidden)
    }
}

/// Authenticates from a table once the test opens its gate.
struct GatedAuthenticator: Authenticator {
    let users: [String: UserInfo]
    let gate: LoadGate

    func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult {
        await gate.wait()
        guard let token = credentials.bearerToken, let user = users[token] else { return .unauthenticated }
        return .authenticated(user, origin: DecisionOrigin(.tokenFile))
    }
}
