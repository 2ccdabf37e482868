import RequestPolicy

/// The answer of an authorizer about one set of attributes.
package enum AuthorizationDecision: Sendable, Hashable {
    /// Allowed; `origin` says who allowed it.
    case allowed(origin: DecisionOrigin)
    /// An explicit denial; the reason is for logs only, never for the client.
    case denied(reason: String, origin: DecisionOrigin)
    /// This authorizer has no rule about the request; the next one decides.
    case noOpinion
}

/// Decides whether a user may do something. Throws only when it cannot decide.
package protocol Authorizer: Sendable {
    func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision
    /// The decision `authorize` would make, when it is at hand without waiting (a cached decision,
    /// a static rule); nil when it is not. Never asks the Kubernetes API.
    func authorizeImmediately(_ attributes: AuthorizationAttributes) -> AuthorizationDecision?
}

extension Authorizer {
    package func authorizeImmediately(_ attributes: AuthorizationAttributes) -> AuthorizationDecision? {
        nil
    }
}
