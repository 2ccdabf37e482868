import RequestPolicy

/// Allows what the config file's `authorization.static` rules list; has no opinion on anything else.
package struct StaticAuthorizer: Authorizer {
    package let rules: [StaticAuthorizationRule]

    package init(rules: [StaticAuthorizationRule]) {
        self.rules = rules
    }

    package func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        rules.contains { $0.matches(attributes) } ? .allowed(origin: DecisionOrigin(.staticRules)) : .noOpinion
    }
}
