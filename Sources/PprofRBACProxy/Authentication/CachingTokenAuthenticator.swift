import Crypto

/// Remembers what a token authenticator said about each token, keyed by an HMAC of the audiences and
/// the token under a random per-process key, so no token is kept in memory as a cache key.
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

    /// A cache key: the HMAC, which reveals nothing of the token.
    package typealias Key = HashedAuthenticationCode<SHA256>

    private let wrapped: any Authenticator
    private let timeToLive: TimeToLive
    /// The HMAC under a random per-process key with the audiences already absorbed: each request
    /// copies it and adds only its token.
    private let audiencesHMAC: HMAC<SHA256>
    private let cache: ExpiringCache<Key, AuthenticationResult>

    package init(
        wrapping wrapped: any Authenticator, audiences: [String], timeToLive: TimeToLive = TimeToLive(),
        capacity: Int = 32 * 1024, now: @escaping ExpiringCache<Key, AuthenticationResult>.Now = { .now }
    ) {
        self.wrapped = wrapped
        self.timeToLive = timeToLive
        var hmac = HMAC<SHA256>(key: SymmetricKey(size: .bits256))
        for audience in audiences {
            hmac.update(data: Array(audience.utf8))
            hmac.update(data: [0])
        }
        self.audiencesHMAC = hmac
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

    /// The remembered answer, if there is an unexpired one.
    package func authenticateImmediately(_ credentials: Credentials) -> AuthenticationResult? {
        guard let token = credentials.bearerToken else { return .unauthenticated }
        switch cache.storedValue(for: cacheKey(token: token)) {
        case .authenticated(let user, let origin):
            return .authenticated(user, origin: origin.fromCache)
        case let stored:
            return stored
        }
    }

    private func cacheKey(token: String) -> Key {
        var hmac = audiencesHMAC
        var token = token
        token.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        return hmac.finalize()
    }
}
