import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("Immediate decisions: cached and local answers pass the gate within the read, with no task")
struct ImmediateDecisionTests {
    let alice = UserInfo(name: "alice", groups: ["system:authenticated"])
    let reviews: RecordingAuthenticator
    let accessReviews: RecordingAuthorizer
    let gate: Gate

    init() {
        reviews = RecordingAuthenticator(answers: ["alice-token": alice])
        accessReviews = RecordingAuthorizer(allowed: ["alice get /debug/pprof/heap", "alice post /debug/pprof/symbol"])
        gate = Gate(
            pathPolicy: .pprofOnly(),
            authenticator: CachingTokenAuthenticator(wrapping: reviews, audiences: ["aud"]),
            authorizer: CachingAuthorizer(wrapping: accessReviews),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    func request(_ path: String, token: String? = "alice-token") -> GateRequest {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "authorization", value: "Bearer \(token)") }
        return GateRequest(method: .GET, target: path, headers: headers)
    }

    @Test("a cold cache cannot decide at once and asks nobody; once warm, the immediate decision is the waited one, from the caches")
    func sameDecisionOnceCached() async throws {
        for path in ["/debug/pprof/heap", "/debug/pprof/goroutine"] {
            #expect(gate.decideImmediately(request(path)) == nil)
        }
        #expect(gate.decideImmediately(request("/debug/pprof/heap", token: "unknown")) == nil)
        #expect(reviews.callCount == 0)
        #expect(accessReviews.recordedCalls.isEmpty)

        for path in ["/debug/pprof/heap", "/debug/pprof/goroutine"] {
            _ = await gate.decide(request(path))
        }
        _ = await gate.decide(request("/debug/pprof/heap", token: "unknown"))
        let calls = (reviews.callCount, accessReviews.recordedCalls.count)

        let allowed = gate.decideImmediately(request("/debug/pprof/heap"))
        #expect(allowed == (await gate.decide(request("/debug/pprof/heap"))))
        #expect(allowed?.verdict == .forward(try RequestTarget(parsing: "/debug/pprof/heap")))
        #expect(allowed?.authentication?.cached == true)
        #expect(allowed?.authorization?.cached == true)

        let refused = gate.decideImmediately(request("/debug/pprof/goroutine"))
        #expect(refused == (await gate.decide(request("/debug/pprof/goroutine"))))
        guard case .refuse(let error) = refused?.verdict else {
            Issue.record("expected a refusal, got \(String(describing: refused))")
            return
        }
        #expect(error.status == .forbidden)

        let unknown = gate.decideImmediately(request("/debug/pprof/heap", token: "unknown"))
        #expect(unknown == GateDecision.refuse(.unauthorized))
        #expect((reviews.callCount, accessReviews.recordedCalls.count) == calls)
    }

    @Test("what needs no answer is decided at once: a path outside pprof, no credentials")
    func nothingToAsk() {
        #expect(gate.decideImmediately(request("/metrics")) == GateDecision.refuse(.notFound))
        #expect(gate.decideImmediately(request("/debug/pprof/heap", token: nil)) == GateDecision.refuse(.unauthorized))
        #expect(reviews.callCount == 0)
    }

    @Test("local mode (token file, static rules) decides every request at once, as it would waiting")
    func localMode() async throws {
        let local = Gate(
            pathPolicy: .pprofOnly(),
            authenticator: UnionAuthenticator([TokenFileAuthenticator(TokenAuthFile(users: ["local-token": alice]))]),
            authorizer: UnionAuthorizer([
                StaticAuthorizer(rules: [StaticAuthorizationRule(userName: "alice", verb: "get", path: try PathPattern("/debug/pprof/*"))])
            ]),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        for (path, token) in [("/debug/pprof/heap", "local-token"), ("/debug/pprof", "local-token"), ("/debug/pprof/heap", "other")] {
            let immediate = local.decideImmediately(request(path, token: token))
            #expect(immediate != nil)
            #expect(immediate == (await local.decide(request(path, token: token))))
        }
    }

    @Test("GateHandler: Expect: 100-continue on a cached request gets its 100 only when a body follows")
    func expectContinueWithinTheRead() async throws {
        _ = await gate.decide(GateRequest(method: .POST, target: "/debug/pprof/symbol", headers: ["authorization": "Bearer alice-token"]))
        for (length, continues) in [("0", false), ("3", true)] {
            let channel = EmbeddedChannel(handler: GateHandler(gate: gate, isHTTP2: false))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()
            let head = HTTPRequestHead(
                version: .http1_1, method: .POST, uri: "/debug/pprof/symbol",
                headers: ["authorization": "Bearer alice-token", "expect": "100-continue", "content-length": length]
            )
            try channel.writeInbound(HTTPServerRequestPart.head(head))
            guard case .head = try channel.readInbound(as: AuthorizedRequestPart.self) else {
                Issue.record("the head did not pass within the read")
                return
            }
            let informational = try channel.readOutbound(as: HTTPServerResponsePart.self)
            #expect((informational != nil) == continues, "Content-Length: \(length)")
        }
    }

    @Test("GateHandler: a cached answer passes the head within the read that brought it, and reads are not held")
    func handlerPassesWithinTheRead() async throws {
        _ = await gate.decide(request("/debug/pprof/heap"))
        let reads = NIOLockedValueBox(0)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([ReadCounter(reads: reads), GateHandler(gate: gate, isHTTP2: false)])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()

        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/debug/pprof/heap", headers: ["authorization": "Bearer alice-token"]
        )
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        guard case .head(_, let authorized) = try channel.readInbound(as: AuthorizedRequestPart.self) else {
            Issue.record("the head did not pass within the read")
            return
        }
        #expect(authorized.user == alice)
        channel.read()
        #expect(reads.withLockedValue { $0 } == 1)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .end = try channel.readInbound(as: AuthorizedRequestPart.self) else {
            Issue.record("expected the end")
            return
        }
    }
}
