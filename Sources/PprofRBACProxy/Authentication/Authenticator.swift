import RequestPolicy
import X509

/// What a request presents to prove who is calling.
public struct Credentials: Sendable {
    /// The token of an `Authorization: Bearer` header, if the request carried one.
    public var bearerToken: String?
    /// The certificates the client presented in the TLS handshake, leaf first; not yet verified.
    public var clientCertificateChain: [Certificate]

    public init(bearerToken: String?, clientCertificateChain: [Certificate] = []) {
        self.bearerToken = bearerToken
        self.clientCertificateChain = clientCertificateChain
    }
}

/// The answer of an authenticator about one set of credentials.
public enum AuthenticationResult: Sendable, Hashable {
    /// The credentials identify this user; `origin` says who recognised them.
    case authenticated(UserInfo, origin: DecisionOrigin)
    /// The credentials are missing, not understood or rejected.
    case unauthenticated
}

/// Decides who is calling. Throws only when it cannot decide (for example the Kubernetes API is down).
public protocol Authenticator: Sendable {
    func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult
}
