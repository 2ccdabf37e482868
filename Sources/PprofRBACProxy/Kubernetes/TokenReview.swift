import RequestPolicy

/// An `authentication.k8s.io/v1` TokenReview: asks the apiserver who a bearer token belongs to.
package struct TokenReview: Codable, Sendable {
    package static let apiVersion = "authentication.k8s.io/v1"
    package static let kind = "TokenReview"
    package static let path = "/apis/authentication.k8s.io/v1/tokenreviews"

    package var apiVersion: String
    package var kind: String
    package var metadata: ObjectMeta?
    package var spec: TokenReviewSpec
    package var status: TokenReviewStatus?

    /// A review to create: the shape client-go sends, with an empty `status.user`.
    package init(spec: TokenReviewSpec) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = ObjectMeta()
        self.spec = spec
        self.status = TokenReviewStatus(user: KubernetesUserInfo())
    }
}

/// The token to review and the audiences it must be valid for.
package struct TokenReviewSpec: Codable, Sendable, Hashable {
    package var token: String
    /// Omitted when empty, so the apiserver checks its own default audience.
    package var audiences: [String]?

    package init(token: String, audiences: [String]) {
        self.token = token
        self.audiences = audiences.isEmpty ? nil : audiences
    }
}

/// The apiserver's verdict on a token. `authenticated` is absent, not false, for a rejected token.
package struct TokenReviewStatus: Codable, Sendable, Hashable {
    package var authenticated: Bool?
    package var user: KubernetesUserInfo?
    package var audiences: [String]?
    package var error: String?

    package init(
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
package struct KubernetesUserInfo: Codable, Sendable, Hashable {
    package var username: String?
    package var uid: String?
    package var groups: [String]?
    package var extra: [String: [String]]?

    package init(username: String? = nil, uid: String? = nil, groups: [String]? = nil, extra: [String: [String]]? = nil) {
        self.username = username
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }
}
