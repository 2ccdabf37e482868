import RequestPolicy

/// Allows what the config file's `authorization.static` rules list; has no opinion on anything else.
public struct StaticAuthorizer: Authorizer {
    public let rules: [StaticAuthorizationRule]

    public init(rules: [StaticAuthorizationRule]) {
        self.rules = rules
    }

    public func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        rules.contains { $0.matches(attributes) } ? .allowed(origin: DecisionOrigin(.staticRules)) : .noOpinion
    }
}

/// One `authorization.static` rule. Empty fields match anything, as in kube-rbac-proxy; unlike it,
/// `path` is a Go `path.Match` glob and `user.groups` is honoured (the user must be in one of them).
public struct StaticAuthorizationRule: Sendable, Hashable {
    public var userName: String
    public var groups: [String]
    public var verb: String
    public var resourceRequest: Bool
    public var path: PathPattern?
    public var namespace: String
    public var apiGroup: String
    public var resource: String
    public var subresource: String
    public var name: String

    public init(
        userName: String = "", groups: [String] = [], verb: String = "", resourceRequest: Bool = false,
        path: PathPattern? = nil, namespace: String = "", apiGroup: String = "", resource: String = "",
        subresource: String = "", name: String = ""
    ) {
        self.userName = userName
        self.groups = groups
        self.verb = verb
        self.resourceRequest = resourceRequest
        self.path = path
        self.namespace = namespace
        self.apiGroup = apiGroup
        self.resource = resource
        self.subresource = subresource
        self.name = name
    }

    public func matches(_ attributes: AuthorizationAttributes) -> Bool {
        guard Self.field(userName, allows: attributes.user.name),
            groups.isEmpty || groups.contains(where: attributes.user.groups.contains),
            Self.field(verb, allows: attributes.verb)
        else { return false }
        switch attributes.target {
        case .nonResource(let requestPath):
            return !resourceRequest && (path?.matches(requestPath) ?? true)
        case .resource(let requested):
            return resourceRequest
                && Self.field(namespace, allows: requested.namespace)
                && Self.field(apiGroup, allows: requested.group)
                && Self.field(resource, allows: requested.resource)
                && Self.field(subresource, allows: requested.subresource)
                && Self.field(name, allows: requested.name)
        }
    }

    private static func field(_ rule: String, allows value: String) -> Bool {
        rule.isEmpty || rule == value
    }
}
