import RequestPolicy

/// Authenticates bearer tokens with a Kubernetes TokenReview, checking the token's audiences.
package struct TokenReviewAuthenticator: Authenticator {
    private let client: any KubernetesReviewClient
    /// `--auth-token-audiences`: sent as `spec.audiences`; the token must be valid for one of them.
    package let audiences: [String]

    package init(client: any KubernetesReviewClient, audiences: [String]) {
        self.client = client
        self.audiences = audiences
    }

    package func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult {
        guard let token = credentials.bearerToken else { return .unauthenticated }
        let status = try await client.createTokenReview(TokenReviewSpec(token: token, audiences: audiences))
        guard status.authenticated == true, let user = status.user, let name = user.username, !name.isEmpty else {
            return .unauthenticated
        }
        if !audiences.isEmpty {
            // As k8s.io/apiserver's webhook authenticator: no audiences in the answer means ours were accepted.
            let granted = status.audiences.flatMap { $0.isEmpty ? nil : $0 } ?? audiences
            guard granted.contains(where: audiences.contains) else { return .unauthenticated }
        }
        return .authenticated(
            UserInfo(name: name, uid: user.uid ?? "", groups: user.groups ?? [], extra: user.extra ?? [:]),
            origin: DecisionOrigin(.tokenReview)
        )
    }
}
