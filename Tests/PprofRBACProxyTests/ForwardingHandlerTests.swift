import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("ForwardingHandler: relays with backpressure, releases the upstream when the client leaves")
struct ForwardingHandlerTests {
    let alice = UserInfo(name: "alice")

    func makeChannel(
        _ connector: FakeUpstreamConnector, basePath: String = "/", identityHeaders: IdentityHeaders = IdentityHeaders()
    ) async throws -> (NIOAsyncTestingChannel, NIOLockedValueBox<Int>) {
        let reads = NIOLockedValueBox(0)
        let target = UpstreamTarget(host: "127.0.0.1", port: 8081, basePath: basePath)
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers([
                ReadCounter(reads: reads), ForwardingHandler(
                    upstream: connector, target: target, identityHeaders: identityHeaders, isHTTP2: false
                ),
            ])
        }
        try await channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 50000))
        return (channel, reads)
    }

    func authorizedHead(
        _ target: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], user: UserInfo?? = .none
    ) throws -> AuthorizedRequestPart {
        let requestTarget = try RequestTarget(parsing: target)
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: HTTPHeaders(headers))
        return .head(head, AuthorizedRequest(target: requestTarget, user: user ?? alice))
    }

    @Test("identity headers name the authenticated caller; forged inbound ones never pass, enabled or not")
    func identityHeaders() async throws {
        var identity = IdentityHeaders()
        identity.enabled = true
        identity.userHeader = "X-Auth-User"
        identity.groupsHeader = "X-Auth-Groups"
        identity.groupsSeparator = ","
        let forged = [
            ("X-Auth-User", "admin"), ("x-auth-groups", "system:masters"), ("X-Remote-User", "admin"),
            ("X-Remote-Extra-Scopes", "admin"), ("x-remote-extra-", "empty key"), ("X-REMOTE-EXTRA-authentication.kubernetes.io%2fpod-name", "p"),
        ]
        let forgedNames = ["x-auth-user", "x-auth-groups", "x-remote-user", "x-remote-extra-scopes", "x-remote-extra-",
                           "x-remote-extra-authentication.kubernetes.io%2fpod-name"]
        let caller = UserInfo(name: "alice", groups: ["pprof-users", "system:authenticated"])

        let exchange = FakeUpstreamExchange()
        let (channel, _) = try await makeChannel(FakeUpstreamConnector([exchange]), identityHeaders: identity)
        try await channel.writeInbound(try authorizedHead("/debug/pprof/heap", headers: forged, user: caller))
        try await channel.writeInbound(AuthorizedRequestPart.end(nil))
        let head = try #require(exchange.writtenHead)
        #expect(head.headers["x-auth-user"] == ["alice"])
        #expect(head.headers["x-auth-groups"] == ["pprof-users,system:authenticated"])
        for name in forgedNames.dropFirst(2) {
            #expect(!head.headers.contains(name: name), "\(name) must not reach the upstream")
        }

        identity.enabled = false
        for user in [caller, nil] as [UserInfo?] {
            let plain = FakeUpstreamExchange()
            let (disabled, _) = try await makeChannel(FakeUpstreamConnector([plain]), identityHeaders: identity)
            try await disabled.writeInbound(try authorizedHead("/debug/pprof/heap", headers: forged, user: .some(user)))
            try await disabled.writeInbound(AuthorizedRequestPart.end(nil))
            let forwarded = try #require(plain.writtenHead)
            for name in forgedNames {
                #expect(!forwarded.headers.contains(name: name), "\(name) must not reach the upstream")
            }
        }

        identity.enabled = true
        let ignoredPath = FakeUpstreamExchange()
        let (ignored, _) = try await makeChannel(FakeUpstreamConnector([ignoredPath]), identityHeaders: identity)
        try await ignored.writeInbound(try authorizedHead("/healthz", headers: forged + [("Authorization", "Bearer t")], user: .some(nil)))
        try await ignored.writeInbound(AuthorizedRequestPart.end(nil))
        let unauthenticated = try #require(ignoredPath.writtenHead)
        for name in forgedNames + ["authorization"] {
            #expect(!unauthenticated.headers.contains(name: name), "\(name) must not reach the upstream on an ignored path")
        }
    }

    @Test("sends the joined target and clean headers, once it knows whether a body follows")
    func requestHead() async throws {
        let exchange = FakeUpstreamExchange()
        let (channel, _) = try await makeChannel(FakeUpstreamConnector([exchange]), basePath: "/base/")
        try await channel.writeInbound(try authorizedHead("/debug/pprof/heap?debug=1", headers: [
            ("Host", "pod:8443"), ("Authorization", "Bearer secret"), ("Connection", "keep-alive, X-Custom"),
            ("X-Custom", "1"), ("Keep-Alive", "timeout=5"), ("X-Remote-User", "admin"), ("X-Remote-Groups", "system:masters"),
            ("X-Forwarded-For", "192.0.2.1"), ("Accept-Encoding", "gzip"), ("TE", "trailers"),
        ]))
        #expect(exchange.written.isEmpty)
        try await channel.writeInbound(AuthorizedRequestPart.end(nil))
        let head = try #require(exchange.writtenHead)
        #expect(head.uri == "/base/debug/pprof/heap?debug=1")
        #expect(head.headers["host"] == ["pod:8443"])
        #expect(head.headers["accept-encoding"] == ["gzip"])
        #expect(head.headers["x-forwarded-for"] == ["192.0.2.1, 10.1.2.3"])
        for removed in ["authorization", "connection", "x-custom", "keep-alive", "x-remote-user", "x-remote-groups", "te", "transfer-encoding"] {
            #expect(!head.headers.contains(name: removed), "\(removed) must not reach the upstream")
        }
        guard case .end = exchange.written.last else {
            Issue.record("expected the end")
            return
        }
    }

    @Test("a body without a length goes chunked")
    func chunkedBody() async throws {
        let exchange = FakeUpstreamExchange()
        let (channel, _) = try await makeChannel(FakeUpstreamConnector([exchange]))
        try await channel.writeInbound(try authorizedHead("/debug/pprof/symbol", method: .POST))
        try await channel.writeInbound(AuthorizedRequestPart.body(ByteBuffer(string: "0x1+0x2")))
        #expect(exchange.writtenHead?.headers["transfer-encoding"] == ["chunked"])
        guard case .body(.byteBuffer(let body)) = exchange.written.last else {
            Issue.record("expected the body")
            return
        }
        #expect(String(buffer: body) == "0x1+0x2")
    }

    @Test("relays the response without hop-by-hop headers and returns the connection to the pool")
    func relaysResponse() async throws {
        let exchange = FakeUpstreamExchange()
        let (channel, _) = try await makeChannel(FakeUpstreamConnector([exchange]))
        try await channel.writeInbound(try authorizedHead("/debug/pprof/heap"))
        try await channel.writeInbound(AuthorizedRequestPart.end(nil))
        try await channel.testingEventLoop.executeInContext {
            let headers = HTTPHeaders([
                ("Content-Type", "application/octet-stream"), ("Content-Disposition", "attachment; filename=\"heap\""),
                ("Transfer-Encoding", "chunked"), ("Connection", "keep-alive"), ("X-Go-Pprof", "1"),
            ])
            exchange.delegate?.upstreamDidReceive(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
            exchange.delegate?.upstreamDidReceive(.body(ByteBuffer(bytes: [0x1f, 0x8b])))
            exchange.delegate?.upstreamReadComplete()
            exchange.delegate?.upstreamDidReceive(.end(nil))
        }
        let head = try #require(try await channel.nextOutbound(as: HTTPServerResponsePart.self).head)
        #expect(head.status == .ok)
        #expect(head.headers["content-type"] == ["application/octet-stream"])
        #expect(head.headers["content-disposition"] == ["attachment; filename=\"heap\""])
        #expect(head.headers["x-go-pprof"] == ["1"])
        #expect(!head.headers.contains(name: "transfer-encoding") && !head.headers.contains(name: "connection"))
        guard case .body(.byteBuffer(let body)) = try await channel.nextOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("expected the body")
            return
        }
        #expect(Array(body.readableBytesView) == [0x1f, 0x8b])
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).isEnd)
        #expect(exchange.finished == true)
    }

    @Test("a client that leaves mid-exchange closes the upstream connection")
    func clientLeaves() async throws {
        let exchange = FakeUpstreamExchange()
        let (channel, _) = try await makeChannel(FakeUpstreamConnector([exchange]))
        try await channel.writeInbound(try authorizedHead("/debug/pprof/profile?seconds=20"))
        try await channel.writeInbound(AuthorizedRequestPart.end(nil))
        #expect(exchange.finished == nil)
        try await channel.close()
        #expect(exchange.finished == false)
    }

    @Test("no upstream connection, or one closed before a response head: 502")
    func badGateway() async throws {
        let (refused, _) = try await makeChannel(FakeUpstreamConnector([]))
        try await refused.writeInbound(try authorizedHead("/debug/pprof/heap"))
        try await refused.writeInbound(AuthorizedRequestPart.end(nil))
        let refusedHead = try #require(try await refused.nextOutbound(as: HTTPServerResponsePart.self).head)
        #expect(refusedHead.status == .badGateway)
        #expect(refusedHead.headers["x-go-pprof"] == ["1"])

        let exchange = FakeUpstreamExchange()
        let (closed, _) = try await makeChannel(FakeUpstreamConnector([exchange]))
        try await closed.writeInbound(try authorizedHead("/debug/pprof/heap"))
        try await closed.writeInbound(AuthorizedRequestPart.end(nil))
        try await closed.testingEventLoop.executeInContext {
            exchange.delegate?.upstreamFailed(.closedBeforeResponse(reused: false))
        }
        #expect(try await closed.nextOutbound(as: HTTPServerResponsePart.self).head?.status == .badGateway)
        #expect(closed.isActive)
    }

    @Test("an upstream that dies mid-body aborts the response: the connection closes, no clean end")
    func abortedMidBody() async throws {
        let exchange = FakeUpstreamExchange()
        let (channel, _) = try await makeChannel(FakeUpstreamConnector([exchange]))
        try await channel.writeInbound(try authorizedHead("/debug/pprof/trace?seconds=5"))
        try await channel.writeInbound(AuthorizedRequestPart.end(nil))
        try await channel.testingEventLoop.executeInContext {
            exchange.delegate?.upstreamDidReceive(.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            exchange.delegate?.upstreamDidReceive(.body(ByteBuffer(string: "go 1.19 trace")))
            exchange.delegate?.upstreamFailed(.closedMidResponse)
        }
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).head?.status == .ok)
        #expect(try await channel.nextOutbound(as: HTTPServerResponsePart.self).bodyString == "go 1.19 trace")
        await channel.testingEventLoop.run()
        #expect(!channel.isActive)
        #expect(try await channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }

    @Test("a stale pooled connection is retried once on a fresh one when the request had no body")
    func staleConnectionRetried() async throws {
        let stale = FakeUpstreamExchange(wasReused: true)
        let fresh = FakeUpstreamExchange()
        let connector = FakeUpstreamConnector([stale, fresh])
        let (channel, _) = try await makeChannel(connector)
        try await channel.writeInbound(try authorizedHead("/debug/pprof/heap"))
        try await channel.writeInbound(AuthorizedRequestPart.end(nil))
        try await channel.testingEventLoop.executeInContext {
            stale.delegate?.upstreamFailed(.closedBeforeResponse(reused: true))
        }
        #expect(connector.leases == [false, true])
        #expect(fresh.writtenHead?.uri == "/debug/pprof/heap")
        #expect(fresh.written.count == 2)
        #expect(try await channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }

    @Test("the client is read only while the upstream can take more")
    func requestBackpressure() async throws {
        let exchange = FakeUpstreamExchange()
        exchange.isWritable = false
        let (channel, reads) = try await makeChannel(FakeUpstreamConnector([exchange]))
        try await channel.writeInbound(try authorizedHead("/debug/pprof/symbol", method: .POST, headers: [("Content-Length", "1000000")]))
        try await channel.writeInbound(AuthorizedRequestPart.body(ByteBuffer(string: "0x1")))
        let readsBefore = reads.withLockedValue { $0 }
        channel.read()
        await channel.testingEventLoop.run()
        #expect(reads.withLockedValue { $0 } == readsBefore)
        try await channel.testingEventLoop.executeInContext {
            exchange.isWritable = true
            exchange.delegate?.upstreamWritabilityChanged()
        }
        #expect(reads.withLockedValue { $0 } == readsBefore + 1)
    }

    @Test("the upstream is read only while the client can take more")
    func responseBackpressure() async throws {
        let exchange = FakeUpstreamExchange()
        let (channel, _) = try await makeChannel(FakeUpstreamConnector([exchange]))
        try await channel.writeInbound(try authorizedHead("/debug/pprof/heap"))
        try await channel.writeInbound(AuthorizedRequestPart.end(nil))
        let accepts = try await channel.testingEventLoop.executeInContext { exchange.delegate?.acceptsResponseData }
        #expect(accepts == true)
        channel.isWritable = false
        let acceptsWhenFull = try await channel.testingEventLoop.executeInContext { exchange.delegate?.acceptsResponseData }
        #expect(acceptsWhenFull == false)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        await channel.testingEventLoop.run()
        #expect(exchange.resumeCount == 1)
    }
}
