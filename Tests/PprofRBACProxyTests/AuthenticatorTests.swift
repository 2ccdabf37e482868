import NIOConcurrencyHelpers
import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

/// Answers reviews from closures and records the specs it was sent.
final class StubReviewClient: KubernetesReviewClient {
    let tokenReviews = NIOLockedValueBox<[TokenReviewSpec]>([])
    let accessReviews = NIOLockedValueBox<[SubjectAccessReviewSpec]>([])
    private let tokenStatus: @Sendable (TokenReviewSpec) throws -> TokenReviewStatus
    private let accessStatus: @Sendable (SubjectAccessReviewSpec) throws -> SubjectAccessReviewStatus

    init(
        tokenStatus: @escaping @Sendable (TokenReviewSpec) throws -> TokenReviewStatus = { _ in TokenReviewStatus() },
        accessStatus: @escaping @Sendable (SubjectAccessReviewSpec) throws -> SubjectAccessReviewStatus = { _ in .init(allowed: false) }
    ) {
        self.tokenStatus = tokenStatus
        self.accessStatus = accessStatus
    }

    func createTokenReview(_ spec: TokenReviewSpec) async throws -> TokenReviewStatus {
        tokenReviews.withLockedValue { $0.append(spec) }
        return try tokenStatus(spec)
    }

    func createSubjectAccessReview(_ spec: SubjectAccessReviewSpec) async throws -> SubjectAccessReviewStatus {
        accessReviews.withLockedValue { $0.append(spec) }
        return try accessStatus(spec)
    }
}

@Suite("Authenticators: bearer tokens, TokenReview, token file, union")
struct AuthenticatorTests {
    @Test(
        "reads bearer tokens as Kubernetes does",
        arguments: [
            ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER abc", "abc"), ("Bearer abc def", "abc"),
            ("Bearer ", nil), ("Bearer", nil), ("Basic YWJj", nil), ("abc", nil), ("Bearer  abc", nil),
        ] as [(String, String?)]
    )
    func bearerToken(header: String, expected: String?) throws {
        #expect(try BearerToken.extract(from: ["Authorization": header]) == expected)
    }

    @Test("an oversized token is no credential at all, and two headers are an error")
    func oversizedAndDuplicate() throws {
        let huge = String(repeating: "a", count: BearerToken.maximumLength + 1)
        #expect(try BearerToken.extract(from: ["Authorization": "Bearer \(huge)"]) == nil)
        #expect(try BearerToken.extract(from: [:]) == nil)
        #expect(throws: BearerToken.HeaderError.multipleAuthorizationHeaders) {
            try BearerToken.extract(from: HTTPHeaders([("Authorization", "Bearer a"), ("Authorization", "Bearer b")]))
        }
    }

    @Test("TokenReview: authenticated users come back with uid, groups and extra; audiences are sent")
    func tokenReviewAuthenticated() async throws {
        let client = StubReviewClient(tokenStatus: { _ in
            TokenReviewStatus(
                authenticated: true,
                user: KubernetesUserInfo(username: "alice", uid: "u1", groups: ["g"], extra: ["k": ["v"]]),
                audiences: ["pprof-rbac-proxy"]
            )
        })
        let authenticator = TokenReviewAuthenticator(client: client, audiences: ["pprof-rbac-proxy"])
        #expect(
            try await authenticator.authenticate(Credentials(bearerToken: "t"))
                == .authenticated(UserInfo(name: "alice", uid: "u1", groups: ["g"], extra: ["k": ["v"]]), origin: DecisionOrigin(.tokenReview))
        )
        #expect(client.tokenReviews.withLockedValue { $0 } == [TokenReviewSpec(token: "t", audiences: ["pprof-rbac-proxy"])])
    }

    @Test("TokenReview: absent 'authenticated', an error, or foreign audiences mean unauthenticated")
    func tokenReviewRejected() async throws {
        let rejected = StubReviewClient(tokenStatus: { _ in TokenReviewStatus(user: KubernetesUserInfo(), error: "invalid bearer token") })
        #expect(try await TokenReviewAuthenticator(client: rejected, audiences: []).authenticate(Credentials(bearerToken: "t")) == .unauthenticated)

        let foreign = StubReviewClient(tokenStatus: { _ in
            TokenReviewStatus(authenticated: true, user: KubernetesUserInfo(username: "alice"), audiences: ["other"])
        })
        #expect(try await TokenReviewAuthenticator(client: foreign, audiences: ["mine"]).authenticate(Credentials(bearerToken: "t")) == .unauthenticated)

        let implicit = StubReviewClient(tokenStatus: { _ in
            TokenReviewStatus(authenticated: true, user: KubernetesUserInfo(username: "alice"))
        })
        #expect(
            try await TokenReviewAuthenticator(client: implicit, audiences: ["mine"]).authenticate(Credentials(bearerToken: "t"))
                == .authenticated(UserInfo(name: "alice"), origin: DecisionOrigin(.tokenReview))
        )
        #expect(try await TokenReviewAuthenticator(client: implicit, audiences: []).authenticate(Credentials(bearerToken: nil)) == .unauthenticated)
        #expect(implicit.tokenReviews.withLockedValue { $0.count } == 1)
    }

    @Test("TokenReview: an API failure is thrown, not turned into 401")
    func tokenReviewFailure() async {
        let failing = StubReviewClient(tokenStatus: { _ in throw KubernetesAPIError.timedOut })
        await #expect(throws: KubernetesAPIError.timedOut) {
            try await TokenReviewAuthenticator(client: failing, audiences: []).authenticate(Credentials(bearerToken: "t"))
        }
    }

    @Test("union: the first success wins and gains system:authenticated; failures surface only without a success")
    func union() async throws {
        let fileUser = UserInfo(name: "local", uid: "1", groups: ["g"])
        let tokenFile = TokenFileAuthenticator(TokenAuthFile(users: ["local-token": fileUser]))
        let failing = StubReviewClient(tokenStatus: { _ in throw KubernetesAPIError.unreachable("down") })
        let union = UnionAuthenticator([tokenFile, TokenReviewAuthenticator(client: failing, audiences: [])])
        #expect(
            try await union.authenticate(Credentials(bearerToken: "local-token"))
                == .authenticated(UserInfo(name: "local", uid: "1", groups: ["g", "system:authenticated"]), origin: DecisionOrigin(.tokenFile))
        )
        await #expect(throws: KubernetesAPIError.self) { try await union.authenticate(Credentials(bearerToken: "other")) }
        #expect(try await UnionAuthenticator([tokenFile]).authenticate(Credentials(bearerToken: "other")) == .unauthenticated)
    }
}

@Suite("Authorizers: SubjectAccessReview, static rules, union")
struct AuthorizerTests {
    let alice = UserInfo(name: "alice", uid: "uid-alice", groups: ["pprof-users", "system:authenticated"])

    @Test("SubjectAccessReview: sends the non-resource attributes and maps allowed / denied / neither")
    func subjectAccessReview() async throws {
        let attributes = AuthorizationAttributes(user: alice, verb: "get", target: .nonResource(path: "/debug/pprof/profile"))
        let allowing = StubReviewClient(accessStatus: { _ in .init(allowed: true, reason: "RBAC") })
        #expect(try await SubjectAccessReviewAuthorizer(client: allowing).authorize(attributes) == .allowed(origin: DecisionOrigin(.subjectAccessReview)))
        #expect(allowing.accessReviews.withLockedValue { $0 } == [SubjectAccessReviewSpec(
            nonResourceAttributes: NonResourceAttributes(path: "/debug/pprof/profile", verb: "get"),
            user: "alice", groups: ["pprof-users", "system:authenticated"], uid: "uid-alice"
        )])
        let denying = StubReviewClient(accessStatus: { _ in .init(allowed: false, denied: true, reason: "no") })
        #expect(try await SubjectAccessReviewAuthorizer(client: denying).authorize(attributes) == .denied(reason: "no", origin: DecisionOrigin(.subjectAccessReview)))
        let both = StubReviewClient(accessStatus: { _ in .init(allowed: true, denied: true) })
        #expect(try await SubjectAccessReviewAuthorizer(client: both).authorize(attributes) == .denied(reason: "", origin: DecisionOrigin(.subjectAccessReview)))
        let neither = StubReviewClient(accessStatus: { _ in .init(allowed: false) })
        #expect(try await SubjectAccessReviewAuthorizer(client: neither).authorize(attributes) == .noOpinion)
    }

    @Test(
        "static rules: user, group, verb and path glob must all match",
        arguments: [
            ("alice", ["pprof-users"], "get", "/debug/pprof/heap", true),
            ("alice", ["pprof-users"], "get", "/debug/pprof/", true),
            ("alice", ["pprof-users"], "post", "/debug/pprof/heap", false),
            ("alice", ["pprof-users"], "get", "/debug/pprof", false),
            ("alice", ["pprof-users"], "get", "/debug/pprof/heap/x", false),
            ("bob", ["pprof-users"], "get", "/debug/pprof/heap", false),
            ("alice", ["others"], "get", "/debug/pprof/heap", false),
            ("carol", ["ops"], "get", "/debug/pprof", true),
            ("carol", ["ops"], "delete", "/debug/pprof", true),
            ("carol", ["ops"], "get", "/debug/pprof/heap", false),
            ("carol", ["dev"], "get", "/debug/pprof", false),
        ]
    )
    func staticRules(user: String, groups: [String], verb: String, path: String, allowed: Bool) async throws {
        let authorizer = StaticAuthorizer(rules: [
            StaticAuthorizationRule(userName: "alice", groups: ["pprof-users"], verb: "get", path: try PathPattern("/debug/pprof/*")),
            StaticAuthorizationRule(groups: ["ops"], path: try PathPattern("/debug/pprof*")),
        ])
        let attributes = AuthorizationAttributes(
            user: UserInfo(name: user, groups: groups), verb: verb, target: .nonResource(path: path)
        )
        #expect(try await authorizer.authorize(attributes) == (allowed ? .allowed(origin: DecisionOrigin(.staticRules)) : .noOpinion))
    }

    @Test("union: static rules first, SubjectAccessReview for the rest; failures only without a decision")
    func union() async throws {
        let staticRules = StaticAuthorizer(rules: [StaticAuthorizationRule(userName: "alice", path: try PathPattern("/debug/pprof/heap"))])
        let failing = StubReviewClient(accessStatus: { _ in throw KubernetesAPIError.timedOut })
        let union = UnionAuthorizer([staticRules, SubjectAccessReviewAuthorizer(client: failing)])
        let heap = AuthorizationAttributes(user: alice, verb: "get", target: .nonResource(path: "/debug/pprof/heap"))
        #expect(try await union.authorize(heap) == .allowed(origin: DecisionOrigin(.staticRules)))
        #expect(failing.accessReviews.withLockedValue { $0.isEmpty })
        var profile = heap
        profile.target = .nonResource(path: "/debug/pprof/profile")
        await #expect(throws: KubernetesAPIError.timedOut) { try await union.authorize(profile) }
        #expect(try await UnionAuthorizer([staticRules]).authorize(profile) == .noOpinion)
    }
}
