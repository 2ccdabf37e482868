import Crypto

/// Remembers what a token authenticator said about each token, keyed by an HMAC of the token and
/// the audiences under a random per-process key, so no token is kept in memory as a cache key.
package struct CachingTokenAuthenticator: Authenticator {
    /// How long answers are remembered: kube-rbac-proxy's 2 minutes for both by default.
    package struct TimeToLive: Sendable {
        package var authenticated: Duration
        package var unauthenticated: Duration

        package init(authenticated: Duration = .seconds(120), unauthenticated: Duration = .seconds(120)) {
            self.authenticated = authenticated
            self.unauthenticated = unauthenticated
        }
    }

    private let wrapped: any Authenticator
    private let audiences: [String]
    private let timeToLive: TimeToLive
    private let hmacKey = SymmetricKey(size: .bits256)
    private let cache: ExpiringCache<[UInt8], AuthenticationResult>

    package init(
        wrapping wrapped: any Authenticator, audiences: [String], timeToLive: TimeToLive = TimeToLive(),
        capacity: Int = 32 * 1024, now: @escaping ExpiringCache<[UInt8], AuthenticationResult>.Now = { .now }
    ) {
        self.wrapped = wrapped
        self.audiences = audiences
        self.timeToLive = timeToLive
        self.cache = ExpiringCache(capacity: capacity, now: now)
    }

    package func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult {
        guard let token = credentials.bearerToken else { return .unauthenticated }
        let timeToLive = self.timeToLive
        let wrapped = self.wrapped
        let (result, outcome) = try await cache.value(
            for: cacheKey(token: token),
            timeToLive: { result in
                switch result {
                case .authenticated: timeToLive.authenticated
                case .unauthenticated: timeToLive.unauthenticated
                }
            },
            load: { try await wrapped.authenticate(credentials) }
        )
        guard outcome == .hit, case .authenticated(let user, let origin) = result else { return result }
        return .authenticated(user, origin: origin.fromCache)
    }

    private func cacheKey(token: String) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: hmacKey)
        hmac.update(data: Array(token.utf8))
        for audience in audiences {
            hmac.update(data: [0])
            hmac.update(data: Array(audience.utf8))
        }
        return Array(hmac.finalize())
    }
}
