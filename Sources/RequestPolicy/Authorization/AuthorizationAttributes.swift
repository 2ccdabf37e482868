/// The resource a resource-attributes review asks about, as in `SubjectAccessReview.spec.resourceAttributes`.
package struct ResourceAttributes: Sendable, Hashable, Codable {
    package var namespace: String
    package var group: String
    package var version: String
    package var resource: String
    package var subresource: String
    package var name: String

    package init(
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
package enum AuthorizationTarget: Sendable, Hashable {
    case nonResource(path: String)
    case resource(ResourceAttributes)
}

/// Who wants to do what: one question for the authorizers, the key of the decision cache.
package struct AuthorizationAttributes: Sendable, Hashable {
    package var user: UserInfo
    package var verb: String
    package var target: AuthorizationTarget

    package init(user: UserInfo, verb: String, target: AuthorizationTarget) {
        self.user = user
        self.verb = verb
        self.target = target
    }
}
