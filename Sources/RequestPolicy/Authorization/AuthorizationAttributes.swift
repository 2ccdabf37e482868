/// The resource a resource-attributes review asks about, as in `SubjectAccessReview.spec.resourceAttributes`.
public struct ResourceAttributes: Sendable, Hashable, Codable {
    public var namespace: String
    public var group: String
    public var version: String
    public var resource: String
    public var subresource: String
    public var name: String

    public init(
        namespace: String = "", group: String = "", version: String = "",
        resource: String = "", subresource: String = "", name: String = ""
    ) {
        self.namespace = namespace
        self.group = group
        self.version = version
        self.resource = resource
        self.subresource = subresource
        self.name = name
    }
}

/// What an authorization decision is about: a non-resource URL path or a Kubernetes resource.
public enum AuthorizationTarget: Sendable, Hashable {
    case nonResource(path: String)
    case resource(ResourceAttributes)
}

/// Who wants to do what: one question for the authorizers, the key of the decision cache.
public struct AuthorizationAttributes: Sendable, Hashable {
    public var user: UserInfo
    public var verb: String
    public var target: AuthorizationTarget

    public init(user: UserInfo, verb: String, target: AuthorizationTarget) {
        self.user = user
        self.verb = verb
        self.target = target
    }
}
