import RequestPolicy

/// Remembers authorization decisions keyed by the whole question (user, uid, groups, extra, verb,
/// path or resource); allowed and not-allowed answers expire separately.
package struct CachingAuthorizer: Authorizer {
    /// How long decisions are remembered: kube-rbac-proxy's 5 minutes allowed, 30 seconds denied.
    package struct TimeToLive: Sendable {
        package var allowed: Duration
        package var denied: Duration

        package init(allowed: Duration = .seconds(300), denied: Duration = .seconds(30)) {
            self.allowed = allowed
            self.denied = denied
        }
    }

    /// Questions whose caller-controlled parts are larger than this are not cached (a DoS guard,
    /// as in k8s.io/apiserver's webhook authorizer).
    package static let maximumCachedQuestionSize = 10_000

    private let wrapped: any Authorizer
    private let timeToLive: TimeToLive
    private let cache: ExpiringCache<AuthorizationAttributes, AuthorizationDecision>

    package init(
        wrapping wrapped: any Authorizer, timeToLive: TimeToLive = TimeToLive(), capacity: Int = 8192,
        now: @escaping ExpiringCache<AuthorizationAttributes, AuthorizationDecision>.Now = { .now }
    ) {
        self.wrapped = wrapped
        self.timeToLive = timeToLive
        self.cache = ExpiringCache(capacity: capacity, now: now)
    }

    package func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        guard attributes.approximateSize <= Self.maximumCachedQuestionSize else {
            return try await wrapped.authorize(attributes)
        }
        let timeToLive = self.timeToLive
        let wrapped = self.wrapped
        let (decision, outcome) = try await cache.value(
            for: attributes,
            timeToLive: { decision in
                if case .allowed = decision { timeToLive.allowed } else { timeToLive.denied }
            },
            load: { try await wrapped.authorize(attributes) }
        )
        guard outcome == .hit else { return decision }
        switch decision {
        case .allowed(let origin): return .allowed(origin: origin.fromCache)
        case .denied(let reason, let origin): return .denied(reason: reason, origin: origin.fromCache)
        case .noOpinion: return .noOpinion
        }
    }

    /// The remembered decision, if there is an unexpired one.
    package func authorizeImmediately(_ attributes: AuthorizationAttributes) -> AuthorizationDecision? {
        guard attributes.approximateSize <= Self.maximumCachedQuestionSize else {
            return wrapped.authorizeImmediately(attributes)
        }
        switch cache.storedValue(for: attributes) {
        case .allowed(let origin): return .allowed(origin: origin.fromCache)
        case .denied(let reason, let origin): return .denied(reason: reason, origin: origin.fromCache)
        case let stored: return stored
        }
    }
}

extension AuthorizationAttributes {
    /// The number of bytes of every string in the question, a measure of its cache footprint.
    var approximateSize: Int {
        var size = verb.utf8.count + user.name.utf8.count + user.uid.utf8.count
        size += user.groups.reduce(0) { $0 + $1.utf8.count }
        size += user.extra.reduce(0) { $0 + $1.key.utf8.count + $1.value.reduce(0) { $0 + $1.utf8.count } }
        switch target {
        case .nonResource(let path):
            size += path.utf8.count
        case .resource(let resource):
            size += [resource.namespace, resource.group, resource.version, resource.resource,
                     resource.subresource, resource.name].reduce(0) { $0 + $1.utf8.count }
        }
        return size
    }
}
