/// Asks each authenticator in turn; the first that recognises the caller wins.
///
/// When none does and one of them failed, the failure is reported rather than a plain "unauthenticated",
/// so that an API outage is answered with 503 instead of 401.
package struct UnionAuthenticator: Authenticator {
    package let authenticators: [any Authenticator]

    package init(_ authenticators: [any Authenticator]) {
        self.authenticators = authenticators
    }

    package func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult {
        var firstError: (any Error)?
        for authenticator in authenticators {
            do {
                if case .authenticated(let user, let origin) = try await authenticator.authenticate(credentials) {
                    return .authenticated(user.addingAuthenticatedGroup(), origin: origin)
                }
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return .unauthenticated
    }

    /// Nil as soon as one authenticator, asked in turn, cannot answer at once.
    package func authenticateImmediately(_ credentials: Credentials) -> AuthenticationResult? {
        for authenticator in authenticators {
            switch authenticator.authenticateImmediately(credentials) {
            case nil:
                return nil
            case .authenticated(let user, let origin):
                return .authenticated(user.addingAuthenticatedGroup(), origin: origin)
            case .unauthenticated:
                continue
            }
        }
        return .unauthenticated
    }
}
