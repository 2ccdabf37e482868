import NIOConcurrencyHelpers
import RequestPolicy

@testable import PprofRBACProxy

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let offset = NIOLockedValueBox(Duration.zero)
    private let start = ContinuousClock.now

    var now: @Sendable () -> ContinuousClock.Instant {
        { [self] in start + offset.withLockedValue { $0 } }
    }

    func advance(by duration: Duration) {
        offset.withLockedValue { $0 += duration }
    }
}

/// Counts calls and answers from a table, optionally after a gate opens, or throws.
final class RecordingAuthenticator: Authenticator {
    private let answers: [String: UserInfo]
    private let calls = NIOLockedValueBox(0)
    let failure: NIOLockedValueBox<(any Error)?> = NIOLockedValueBox(nil)

    init(answers: [String: UserInfo]) {
        self.answers = answers
    }

    var callCount: Int { calls.withLockedValue { $0 } }

    func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult {
        calls.withLockedValue { $0 += 1 }
        if let error = failure.withLockedValue({ $0 }) { throw error }
        guard let token = credentials.bearerToken, let user = answers[token] else { return .unauthenticated }
        return .authenticated(user, origin: DecisionOrigin(.tokenReview))
    }
}

/// Allows the listed (user, verb, path) triples, counts calls, optionally throws.
final class RecordingAuthorizer: Authorizer {
    private let allowed: Set<String>
    private let calls = NIOLockedValueBox<[AuthorizationAttributes]>([])
    let failure: NIOLockedValueBox<(any Error)?> = NIOLockedValueBox(nil)

    init(allowed: Set<String>) {
        self.allowed = allowed
    }

    var recordedCalls: [AuthorizationAttributes] { calls.withLockedValue { $0 } }

    func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        calls.withLockedValue { $0.append(attributes) }
        if let error = failure.withLockedValue({ $0 }) { throw error }
        guard case .nonResource(let path) = attributes.target else { return .noOpinion }
        return allowed.contains("\(attributes.user.name) \(attributes.verb) \(path)") ? .allowed(origin: DecisionOrigin(.subjectAccessReview)) : .noOpinion
    }
}

/// Makes a load wait until the test releases it, to hold concurrent callers on one miss.
final class LoadGate: Sendable {
    private let state = NIOLockedValueBox<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLockedValue { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}

struct TestFailure: Error, Equatable {}
