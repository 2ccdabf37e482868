import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("CachingTokenAuthenticator and CachingAuthorizer")
struct CachingAuthenticationTests {
    let alice = UserInfo(name: "alice", uid: "uid-alice", groups: ["pprof-users"])
    let fromAPI = DecisionOrigin(.tokenReview)
    let fromCache = DecisionOrigin(.tokenReview, cached: true)

    @Test("remembers authenticated and rejected tokens for their own time to live")
    func tokenTimeToLive() async throws {
        let clock = ManualClock()
        let wrapped = RecordingAuthenticator(answers: ["good": alice])
        let authenticator = CachingTokenAuthenticator(
            wrapping: wrapped, audiences: [],
            timeToLive: .init(authenticated: .seconds(120), unauthenticated: .seconds(10)), now: clock.now
        )
        #expect(try await authenticator.authenticate(Credentials(bearerToken: "good")) == .authenticated(alice, origin: fromAPI))
        for _ in 0..<5 {
            #expect(try await authenticator.authenticate(Credentials(bearerToken: "good")) == .authenticated(alice, origin: fromCache))
            #expect(try await authenticator.authenticate(Credentials(bearerToken: "bad")) == .unauthenticated)
        }
        #expect(wrapped.callCount == 2)
        clock.advance(by: .seconds(11))
        _ = try await authenticator.authenticate(Credentials(bearerToken: "good"))
        _ = try await authenticator.authenticate(Credentials(bearerToken: "bad"))
        #expect(wrapped.callCount == 3)
    }

    @Test("does not cache failures, and asks nobody without a token")
    func failuresAndMissingTokens() async throws {
        let wrapped = RecordingAuthenticator(answers: ["good": alice])
        let authenticator = CachingTokenAuthenticator(wrapping: wrapped, audiences: [])
        wrapped.failure.withLockedValue { $0 = TestFailure() }
        await #expect(throws: TestFailure.self) { try await authenticator.authenticate(Credentials(bearerToken: "good")) }
        wrapped.failure.withLockedValue { $0 = nil }
        #expect(try await authenticator.authenticate(Credentials(bearerToken: "good")) == .authenticated(alice, origin: fromAPI))
        #expect(try await authenticator.authenticate(Credentials(bearerToken: nil)) == .unauthenticated)
        #expect(wrapped.callCount == 2)
    }

    @Test("50 concurrent requests with one new token make one call")
    func coalescedTokenReviews() async throws {
        let wrapped = RecordingAuthenticator(answers: ["good": alice])
        let authenticator = CachingTokenAuthenticator(wrapping: wrapped, audiences: ["aud"])
        try await withThrowingTaskGroup(of: AuthenticationResult.self) { group in
            for _ in 0..<50 {
                group.addTask { try await authenticator.authenticate(Credentials(bearerToken: "good")) }
            }
            for try await result in group {
                #expect(result == .authenticated(alice, origin: fromAPI) || result == .authenticated(alice, origin: fromCache))
            }
        }
        #expect(wrapped.callCount == 1)
    }

    @Test("decisions are keyed by the whole question, with separate allow and deny lifetimes")
    func authorizationCache() async throws {
        let clock = ManualClock()
        let wrapped = RecordingAuthorizer(allowed: ["alice get /debug/pprof/heap"])
        let authorizer = CachingAuthorizer(
            wrapping: wrapped, timeToLive: .init(allowed: .seconds(300), denied: .seconds(30)), now: clock.now
        )
        let heap = AuthorizationAttributes(user: alice, verb: "get", target: .nonResource(path: "/debug/pprof/heap"))
        var otherGroups = heap
        otherGroups.user.groups.append("extra")
        var profile = heap
        profile.target = .nonResource(path: "/debug/pprof/profile")
        let allowedByAPI = AuthorizationDecision.allowed(origin: DecisionOrigin(.subjectAccessReview))
        let allowedFromCache = AuthorizationDecision.allowed(origin: DecisionOrigin(.subjectAccessReview, cached: true))
        for round in 0..<3 {
            #expect(try await authorizer.authorize(heap) == (round == 0 ? allowedByAPI : allowedFromCache))
            #expect(try await authorizer.authorize(otherGroups) == (round == 0 ? allowedByAPI : allowedFromCache))
            #expect(try await authorizer.authorize(profile) == .noOpinion)
        }
        #expect(wrapped.recordedCalls.count == 3)
        clock.advance(by: .seconds(31))
        _ = try await authorizer.authorize(heap)
        _ = try await authorizer.authorize(profile)
        #expect(wrapped.recordedCalls.count == 4)
    }

    @Test("oversized questions are never cached")
    func oversizedQuestions() async throws {
        let wrapped = RecordingAuthorizer(allowed: [])
        let authorizer = CachingAuthorizer(wrapping: wrapped)
        var user = alice
        user.groups = (0..<2000).map { "group-\($0)" }
        let attributes = AuthorizationAttributes(user: user, verb: "get", target: .nonResource(path: "/debug/pprof/heap"))
        _ = try await authorizer.authorize(attributes)
        _ = try await authorizer.authorize(attributes)
        #expect(wrapped.recordedCalls.count == 2)
    }
}
