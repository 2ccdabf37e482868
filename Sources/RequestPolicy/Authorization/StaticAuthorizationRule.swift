/// One `authorization.static` rule. Empty fields match anything, as in kube-rbac-proxy; unlike it,
/// `path` is a Go `path.Match` glob and `user.groups` is honoured (the user must be in one of them).
package struct StaticAuthorizationRule: Sendable, Hashable {
    package var userName: String
    package var groups: [String]
    package var verb: String
    package var resourceRequest: Bool
    package var path: PathPattern?
    package var namespace: String
    package var apiGroup: String
    package var resource: String
    package var subresource: String
    package var name: String

    package init(
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

    package func matches(_ attributes: AuthorizationAttributes) -> Bool {
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
