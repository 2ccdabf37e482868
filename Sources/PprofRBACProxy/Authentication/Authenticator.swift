import RequestPolicy
import X509

/// What a request presents to prove who is calling.
package struct Credentials: Sendable {
    /// The token of an `Authorization: Bearer` header, if the request carried one.
    package var bearerToken: String?
    /// The certificates the client presented in the TLS handshake, leaf first; not yet verified.
    package var clientCertificateChain: [Certificate]

    package init(bearerToken: String?, clientCertificateChain: [Certificate] = []) {
        self.bearerToken = bearerToken
        self.clientCertificateChain = clientCertificateChain
    }
}

/// The answer of an authenticator about one set of credentials.
package enum AuthenticationResult: Sendable, Hashable {
    /// The credentials identify this user; `origin` says who recognised them.
    case authenticated(UserInfo, origin: DecisionOrigin)
    /// The credentials are missing, not understood or rejected.
    case unauthenticated
}

/// Decides who is calling. Throws only when it cannot decide (for example the Kubernetes API is down).
package protocol Authenticator: Sendable {
    func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult
    /// The answer `authenticate` would give, when it is at hand without waiting (a cached answer, a
    /// local file); nil when it is not. Never asks the Kubernetes API.
    func authenticateImmediately(_ credentials: Credentials) -> AuthenticationResult?
}

extension Authenticator {
    package func authenticateImmediately(_ credentials: Credentials) -> AuthenticationResult? {
        nil
    }
}
