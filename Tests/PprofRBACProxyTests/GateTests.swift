import Logging
import NIOHTTP1
import Testing

@testable import PprofRBACProxy

@Suite("Gate: path policy, then authentication, then authorization")
struct GateTests {
    let alice = UserInfo(name: "alice", uid: "uid-alice", groups: ["pprof-users", "system:authenticated"])
    let authenticator: RecordingAuthenticator
    let authorizer: RecordingAuthorizer
    let gate: Gate

    init() {
        authenticator = RecordingAuthenticator(answers: ["alice-token": alice])
        authorizer = RecordingAuthorizer(allowed: ["alice get /debug/pprof/heap", "alice get /debug/pprof/"])
        gate = Gate(
            pathPolicy: .pprofOnly(), authenticator: authenticator, authorizer: authorizer,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    func decide(_ target: String, method: HTTPMethod = .GET, token: String? = "alice-token") async -> GateDecision {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        return await gate.decide(GateRequest(method: method, target: target, headers: headers))
    }

    @Test("an allowed request is forwarded with the normalized target and the user")
    func allowed() async throws {
        let decision = await decide("/debug/pprof/%68eap?debug=1")
        let expected = AuthorizedRequest(target: try RequestTarget(parsing: "/debug/pprof/heap?debug=1"), user: alice)
        #expect(decision == .forward(expected))
        #expect(authorizer.recordedCalls == [
            AuthorizationAttributes(user: alice, verb: "get", target: .nonResource(path: "/debug/pprof/heap"))
        ])
    }

    @Test("paths outside /debug/pprof are 404 before anyone is asked")
    func notFoundBeforeAuthentication() async {
        #expect(await decide("/metrics", token: nil) == .refuse(.notFound, user: nil))
        #expect(await decide("/debug/pprof/../../metrics") == .refuse(.notFound, user: nil))
        #expect(await decide("/debug/pprofx") == .refuse(.notFound, user: nil))
        #expect(authenticator.callCount == 0)
    }

    @Test("ignored paths are forwarded without asking anyone and without a user")
    func ignoredPaths() async throws {
        let ignoring = Gate(
            pathPolicy: PathPolicy(allowed: PathPolicy.pprofOnly().allowed, ignored: [try PathPattern("/healthz")]),
            authenticator: authenticator, authorizer: authorizer,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let decision = await ignoring.decide(GateRequest(method: .GET, target: "/healthz?x=1", headers: [:]))
        #expect(decision == .forward(AuthorizedRequest(target: try RequestTarget(parsing: "/healthz?x=1"), user: nil)))
        #expect(authenticator.callCount == 0)
        #expect(authorizer.recordedCalls.isEmpty)
    }

    @Test("undecodable paths are 400 before anyone is asked")
    func badRequest() async {
        guard case .refuse(.badRequest, nil) = await decide("/debug/pprof/%2Fheap") else {
            Issue.record("expected 400")
            return
        }
        #expect(authenticator.callCount == 0)
    }

    @Test("no token, another scheme, or a rejected token is 401")
    func unauthorized() async {
        #expect(await decide("/debug/pprof/heap", token: nil) == .refuse(.unauthorized, user: nil))
        #expect(await decide("/debug/pprof/heap", token: "wrong") == .refuse(.unauthorized, user: nil))
        let basic = await gate.decide(GateRequest(
            method: .GET, target: "/debug/pprof/heap", headers: ["Authorization": "Basic YWxpY2UtdG9rZW4="]
        ))
        #expect(basic == .refuse(.unauthorized, user: nil))
    }

    @Test("two Authorization headers are 400")
    func twoAuthorizationHeaders() async {
        let decision = await gate.decide(GateRequest(
            method: .GET, target: "/debug/pprof/heap",
            headers: HTTPHeaders([("Authorization", "Bearer alice-token"), ("authorization", "Bearer other")])
        ))
        guard case .refuse(.badRequest, nil) = decision else {
            Issue.record("expected 400, got \(decision)")
            return
        }
    }

    @Test("not allowed is 403 with the lower-cased method as the verb")
    func forbidden() async {
        #expect(
            await decide("/debug/pprof/heap", method: .POST)
                == .refuse(.forbidden(user: "alice", verb: "post", path: "/debug/pprof/heap"), user: alice)
        )
        #expect(
            await decide("/debug/pprof/profile")
                == .refuse(.forbidden(user: "alice", verb: "get", path: "/debug/pprof/profile"), user: alice)
        )
    }

    @Test("an authentication or authorization failure is 503, never a forward")
    func apiUnavailable() async {
        authenticator.failure.withLockedValue { $0 = KubernetesAPIError.timedOut }
        #expect(await decide("/debug/pprof/heap") == .refuse(.kubernetesAPIUnavailable, user: nil))
        authenticator.failure.withLockedValue { $0 = nil }
        authorizer.failure.withLockedValue { $0 = KubernetesAPIError.unexpectedStatus(code: 500, message: "boom") }
        #expect(await decide("/debug/pprof/heap") == .refuse(.kubernetesAPIUnavailable, user: alice))
    }
}
