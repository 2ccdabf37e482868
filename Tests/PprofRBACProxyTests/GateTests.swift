import Logging
import NIOConcurrencyHelpers
import NIOHTTP1
import RequestPolicy
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
        #expect(decision.isVerdict(.forward(try RequestTarget(parsing: "/debug/pprof/heap?debug=1")), user: alice))
        #expect(decision.authentication == DecisionOrigin(.tokenReview))
        #expect(decision.authorization == DecisionOrigin(.subjectAccessReview))
        #expect(authorizer.recordedCalls == [
            AuthorizationAttributes(user: alice, verb: "get", target: .nonResource(path: "/debug/pprof/heap"))
        ])
    }

    @Test("paths outside /debug/pprof are 404 before anyone is asked")
    func notFoundBeforeAuthentication() async {
        #expect(await decide("/metrics", token: nil).isVerdict(.refuse(.notFound), user: nil))
        #expect(await decide("/debug/pprof/../../metrics").isVerdict(.refuse(.notFound), user: nil))
        #expect(await decide("/debug/pprofx").isVerdict(.refuse(.notFound), user: nil))
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
        #expect(decision.isVerdict(.forward(try RequestTarget(parsing: "/healthz?x=1")), user: nil))
        #expect(authenticator.callCount == 0)
        #expect(authorizer.recordedCalls.isEmpty)
    }

    @Test("undecodable paths are 400 before anyone is asked")
    func badRequest() async {
        guard case .refuse(.badRequest) = await decide("/debug/pprof/%2Fheap").verdict else {
            Issue.record("expected 400")
            return
        }
        #expect(authenticator.callCount == 0)
    }

    @Test("no token, another scheme, or a rejected token is 401")
    func unauthorized() async {
        #expect(await decide("/debug/pprof/heap", token: nil).isVerdict(.refuse(.unauthorized), user: nil))
        #expect(await decide("/debug/pprof/heap", token: "wrong").isVerdict(.refuse(.unauthorized), user: nil))
        let basic = await gate.decide(GateRequest(
            method: .GET, target: "/debug/pprof/heap", headers: ["Authorization": "Basic YWxpY2UtdG9rZW4="]
        ))
        #expect(basic.isVerdict(.refuse(.unauthorized), user: nil))
    }

    @Test("--allow-basic-auth-token: the password of Basic credentials is the bearer token")
    func basicAuthToken() async throws {
        var basicGate = gate
        basicGate.acceptsBasicAuthToken = true
        let headers: HTTPHeaders = ["Authorization": "Basic eDphbGljZS10b2tlbg=="]  // x:alice-token
        let decision = await basicGate.decide(GateRequest(method: .GET, target: "/debug/pprof/heap", headers: headers))
        #expect(decision.isVerdict(.forward(try RequestTarget(parsing: "/debug/pprof/heap")), user: alice))
        let malformed = await basicGate.decide(GateRequest(
            method: .GET, target: "/debug/pprof/heap", headers: ["Authorization": "Basic not-base64"]
        ))
        #expect(malformed.isVerdict(.refuse(.unauthorized), user: nil))
        let unflagged = await gate.decide(GateRequest(method: .GET, target: "/debug/pprof/heap", headers: headers))
        #expect(unflagged.isVerdict(.refuse(.unauthorized), user: nil))
    }

    @Test("two Authorization headers are 400")
    func twoAuthorizationHeaders() async {
        let decision = await gate.decide(GateRequest(
            method: .GET, target: "/debug/pprof/heap",
            headers: HTTPHeaders([("Authorization", "Bearer alice-token"), ("authorization", "Bearer other")])
        ))
        guard case .refuse(.badRequest) = decision.verdict else {
            Issue.record("expected 400, got \(decision)")
            return
        }
    }

    @Test("not allowed is 403 with the lower-cased method as the verb")
    func forbidden() async {
        #expect(
            await decide("/debug/pprof/heap", method: .POST)
               .isVerdict(.refuse(.forbidden(user: "alice", verb: "post", path: "/debug/pprof/heap")), user: alice)
        )
        #expect(
            await decide("/debug/pprof/profile")
               .isVerdict(.refuse(.forbidden(user: "alice", verb: "get", path: "/debug/pprof/profile")), user: alice)
        )
    }

    @Test("an authentication or authorization failure is 503, never a forward")
    func apiUnavailable() async {
        authenticator.failure.withLockedValue { $0 = KubernetesAPIError.timedOut }
        #expect(await decide("/debug/pprof/heap").isVerdict(.refuse(.kubernetesAPIUnavailable), user: nil))
        authenticator.failure.withLockedValue { $0 = nil }
        authorizer.failure.withLockedValue { $0 = KubernetesAPIError.unexpectedStatus(code: 500, message: "boom") }
        #expect(await decide("/debug/pprof/heap").isVerdict(.refuse(.kubernetesAPIUnavailable), user: alice))
    }

    /// A gate whose questions come from resourceAttributes rewritten by the `ns` query parameter
    /// and `X-Ns` header, answered by `authorizer`.
    func rewritingGate(_ authorizer: any Authorizer, verbMapping: VerbMapping = .apiserver) throws -> Gate {
        Gate(
            pathPolicy: .pprofOnly(), authenticator: authenticator, authorizer: authorizer,
            attributesBuilder: AuthorizationAttributesBuilder(
                verbMapping: verbMapping,
                resourceAttributes: try ResourceAttributesTemplate(namespace: "{{ .Value }}", resource: "deployments", subresource: "pprof"),
                rewrites: AttributeRewrites(queryParameter: "ns", httpHeader: "X-Ns")
            ),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    func decide(_ gate: Gate, _ target: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:]) async -> GateDecision {
        var headers = headers
        headers.add(name: "Authorization", value: "Bearer alice-token")
        return await gate.decide(GateRequest(method: method, target: target, headers: headers))
    }

    @Test("the verb mapping decides the verb of the non-resource question")
    func verbMapping() async {
        let gate = Gate(
            pathPolicy: .pprofOnly(), authenticator: authenticator, authorizer: authorizer,
            attributesBuilder: AuthorizationAttributesBuilder(verbMapping: .kubeRBACProxy),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        #expect(
            await decide(gate, "/debug/pprof/symbol", method: .POST)
               .isVerdict(.refuse(.forbidden(user: "alice", verb: "create", path: "/debug/pprof/symbol")), user: alice)
        )
        #expect(await decide(gate, "/debug/pprof/heap", method: .HEAD).isVerdict(.refuse(.forbidden(user: "alice", verb: "*", path: "/debug/pprof/heap")), user: alice))
    }

    @Test("rewrites with no value are 400 with kube-rbac-proxy's message, and nobody is asked")
    func rewriteWithoutValue() async throws {
        let answers = NamespaceAuthorizer(allowed: ["team-a"])
        let decision = await decide(try rewritingGate(answers), "/debug/pprof/heap?other=team-a")
        #expect(decision.isVerdict(.refuse(.rewriteValueMissing), user: alice))
        #expect(ProxyError.rewriteValueMissing.status == .badRequest)
        #expect(ProxyError.rewriteValueMissing.message == "Bad Request. The request or configuration is malformed.")
        #expect(answers.asked.isEmpty)
    }

    @Test("every question must be allowed: one denied of two is 403 naming it")
    func allQuestionsMustBeAllowed() async throws {
        let answers = NamespaceAuthorizer(allowed: ["team-a"])
        let gate = try rewritingGate(answers)
        let denied = await decide(gate, "/debug/pprof/heap?ns=team-a", headers: ["x-ns": "team-b"])
        #expect(denied.isVerdict(.refuse(.forbiddenResource(user: "alice", verb: "get", resource: "deployments", subresource: "pprof")), user: alice))
        #expect(answers.asked == ["team-a", "team-b"])
        #expect(
            ProxyError.forbiddenResource(user: "alice", verb: "get", resource: "deployments", subresource: "pprof").message
                == "Forbidden (user=alice, verb=get, resource=deployments, subresource=pprof)"
        )
        guard case .forward = await decide(gate, "/debug/pprof/heap?ns=team-a&ns=team-a", headers: ["X-NS": "team-a"]).verdict else {
            Issue.record("three allowed questions should forward")
            return
        }
        #expect(answers.asked.suffix(3) == ["team-a", "team-a", "team-a"])
    }

    @Test("a failure on any question is 503")
    func failureOnSecondQuestion() async throws {
        let answers = NamespaceAuthorizer(allowed: ["team-a"], failing: ["team-c"])
        let decision = await decide(try rewritingGate(answers), "/debug/pprof/heap?ns=team-a&ns=team-c")
        #expect(decision.isVerdict(.refuse(.kubernetesAPIUnavailable), user: alice))
    }

    @Test("resource questions use the resource verbs of the mapping")
    func resourceVerbs() async throws {
        let answers = NamespaceAuthorizer(allowed: [])
        let apiserver = await decide(try rewritingGate(answers), "/debug/pprof/symbol?ns=a", method: .POST)
        #expect(apiserver.isVerdict(.refuse(.forbiddenResource(user: "alice", verb: "create", resource: "deployments", subresource: "pprof")), user: alice))
        let krp = await decide(try rewritingGate(answers, verbMapping: .kubeRBACProxy), "/debug/pprof/heap?ns=a", method: .HEAD)
        #expect(krp.isVerdict(.refuse(.forbiddenResource(user: "alice", verb: "*", resource: "deployments", subresource: "pprof")), user: alice))
    }
}

/// Allows resource questions about the listed namespaces, throws for the failing ones, and
/// records the namespaces asked about in order.
private final class NamespaceAuthorizer: Authorizer {
    private let allowed: Set<String>
    private let failing: Set<String>
    private let calls = NIOLockedValueBox<[String]>([])

    init(allowed: Set<String>, failing: Set<String> = []) {
        self.allowed = allowed
        self.failing = failing
    }

    var asked: [String] { calls.withLockedValue { $0 } }

    func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        guard case .resource(let resource) = attributes.target else { return .noOpinion }
        calls.withLockedValue { $0.append(resource.namespace) }
        if failing.contains(resource.namespace) { throw KubernetesAPIError.timedOut }
        let origin = DecisionOrigin(.subjectAccessReview)
        return allowed.contains(resource.namespace) ? .allowed(origin: origin) : .denied(reason: "not \(resource.namespace)", origin: origin)
    }
}

extension GateDecision {
    /// Whether this is `verdict` for `user`; the decision origins are left to the tests that check them.
    func isVerdict(_ verdict: Verdict, user: UserInfo?) -> Bool {
        self.verdict == verdict && self.user == user
    }
}
