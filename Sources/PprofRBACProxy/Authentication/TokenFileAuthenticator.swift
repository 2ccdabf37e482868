import RequestPolicy

/// Authenticates bearer tokens listed in a kube-apiserver static token file; the local mode.
package struct TokenFileAuthenticator: Authenticator {
    private let users: [String: UserInfo]

    package init(_ tokenFile: TokenAuthFile) {
        self.users = tokenFile.users
    }

    package func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult {
        guard let token = credentials.bearerToken, let user = users[token] else { return .unauthenticated }
        return .authenticated(user, origin: DecisionOrigin(.tokenFile))
    }
}
