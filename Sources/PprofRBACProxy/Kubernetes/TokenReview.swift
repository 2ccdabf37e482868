import RequestPolicy

/// An `authentication.k8s.io/v1` TokenReview: asks the apiserver who a bearer token belongs to.
public struct TokenReview: Codable, Sendable {
    public static let apiVersion = "authentication.k8s.io/v1"
    public static let kind = "TokenReview"
    public static let path = "/apis/authentication.k8s.io/v1/tokenreviews"

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta?
    public var spec: TokenReviewSpec
    public var status: TokenReviewStatus?

    /// A review to create: the shape client-go sends, with an empty `status.user`.
    public init(spec: TokenReviewSpec) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = ObjectMeta()
        self.spec = spec
        self.status = TokenReviewStatus(user: KubernetesUserInfo())
    }
}

/// The token to review and the audiences it must be valid for.
public struct TokenReviewSpec: Codable, Sendable, Hashable {
    public var token: String
    /// Omitted when empty, so the apiserver checks its own default audience.
    public var audiences: [String]?

    public init(token: String, audiences: [String]) {
        self.token = token
        self.audiences = audiences.isEmpty ? nil : audiences
    }
}

/// The apiserver's verdict on a token. `authenticated` is absent, not false, for a rejected token.
public struct TokenReviewStatus: Codable, Sendable, Hashable {
    public var authenticated: Bool?
    public var user: KubernetesUserInfo?
    public var audiences: [String]?
    public var error: String?

    public init(
        authenticated: Bool? = nil, user: KubernetesUserInfo? = nil,
        audiences: [String]? = nil, error: String? = nil
    ) {
        self.authenticated = authenticated
        self.user = user
        self.audiences = audiences
        self.error = error
    }
}

/// `authentication.k8s.io/v1` UserInfo as it appears on the wire (every field optional).
public struct KubernetesUserInfo: Codable, Sendable, Hashable {
    public var username: String?
    public var uid: String?
    public var groups: [String]?
    public var extra: [String: [String]]?

    public init(username: String? = nil, uid: String? = nil, groups: [String]? = nil, extra: [String: [String]]? = nil) {
        self.username = username
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }
}
