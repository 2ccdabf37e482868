import RequestPolicy

/// Allows what the config file's `authorization.static` rules list; has no opinion on anything else.
package struct StaticAuthorizer: Authorizer {
    package let rules: [StaticAuthorizationRule]

    package init(rules: [StaticAuthorizationRule]) {
        self.rules = rules
    }

    package func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        match(attributes)
    }

    /// Always at hand: the rules are in memory.
    package func authorizeImmediately(_ attributes: AuthorizationAttributes) -> AuthorizationDecision? {
        match(attributes)
    }

    private func match(_ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        rules.contains { $0.matches(attributes) } ? .allowed(origin: DecisionOrigin(.staticRules)) : .noOpinion
    }
}
