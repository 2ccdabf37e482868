import RequestPolicy

/// Asks each authorizer in turn; the first explicit allow or deny wins, and no opinion from all
/// of them means not allowed. A failure is reported only when no later authorizer decides.
package struct UnionAuthorizer: Authorizer {
    package let authorizers: [any Authorizer]

    package init(_ authorizers: [any Authorizer]) {
        self.authorizers = authorizers
    }

    package func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        var firstError: (any Error)?
        for authorizer in authorizers {
            do {
                let decision = try await authorizer.authorize(attributes)
                if decision != .noOpinion { return decision }
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return .noOpinion
    }

    /// Nil as soon as one authorizer, asked in turn, cannot answer at once.
    package func authorizeImmediately(_ attributes: AuthorizationAttributes) -> AuthorizationDecision? {
        for authorizer in authorizers {
            guard let decision = authorizer.authorizeImmediately(attributes) else { return nil }
            if decision != .noOpinion { return decision }
        }
        return .noOpinion
    }
}
