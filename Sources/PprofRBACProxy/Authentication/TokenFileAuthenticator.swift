import RequestPolicy

/// Authenticates bearer tokens listed in a kube-apiserver static token file; the local mode.
package struct TokenFileAuthenticator: Authenticator {
    private let users: [String: UserInfo]

    package init(_ tokenFile: TokenAuthFile) {
        self.users = tokenFile.users
    }

    package func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult {
        lookUp(credentials)
    }

    /// Always at hand: the file is in memory.
    package func authenticateImmediately(_ credentials: Credentials) -> AuthenticationResult? {
        lookUp(credentials)
    }

    private func lookUp(_ credentials: Credentials) -> AuthenticationResult {
        guard let token = credentials.bearerToken, let user = users[token] else { return .unauthenticated }
        return .authenticated(user, origin: DecisionOrigin(.tokenFile))
    }
}
