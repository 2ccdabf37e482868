import RequestPolicy

/// An `authorization.k8s.io/v1` SubjectAccessReview: asks the apiserver whether a user may do something.
package struct SubjectAccessReview: Codable, Sendable {
    package static let apiVersion = "authorization.k8s.io/v1"
    package static let kind = "SubjectAccessReview"
    package static let path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"

    package var apiVersion: String
    package var kind: String
    package var metadata: ObjectMeta?
    package var spec: SubjectAccessReviewSpec
    package var status: SubjectAccessReviewStatus?

    /// A review to create: the shape client-go sends, with `status.allowed` false.
    package init(spec: SubjectAccessReviewSpec) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = ObjectMeta()
        self.spec = spec
        self.status = SubjectAccessReviewStatus(allowed: false)
    }
}

/// Who asks to do what. Exactly one of the two attribute sets is present.
package struct SubjectAccessReviewSpec: Codable, Sendable, Hashable {
    package var resourceAttributes: ResourceAttributesWire?
    package var nonResourceAttributes: NonResourceAttributes?
    package var user: String?
    package var groups: [String]?
    package var extra: [String: [String]]?
    package var uid: String?

    package init(
        resourceAttributes: ResourceAttributesWire? = nil, nonResourceAttributes: NonResourceAttributes? = nil,
        user: String? = nil, groups: [String]? = nil, extra: [String: [String]]? = nil, uid: String? = nil
    ) {
        self.resourceAttributes = resourceAttributes
        self.nonResourceAttributes = nonResourceAttributes
        self.user = user
        self.groups = groups
        self.extra = extra
        self.uid = uid
    }

    /// The spec for these attributes, with empty fields omitted as Go's `omitempty` does.
    package init(_ attributes: AuthorizationAttributes) {
        let user = attributes.user
        self.init(
            user: user.name.isEmpty ? nil : user.name,
            groups: user.groups.isEmpty ? nil : user.groups,
            extra: user.extra.isEmpty ? nil : user.extra,
            uid: user.uid.isEmpty ? nil : user.uid
        )
        switch attributes.target {
        case .nonResource(let path):
            self.nonResourceAttributes = NonResourceAttributes(path: path, verb: attributes.verb)
        case .resource(let resource):
            self.resourceAttributes = ResourceAttributesWire(resource, verb: attributes.verb)
        }
    }
}

/// `spec.nonResourceAttributes`: a URL path and a lower-case verb.
package struct NonResourceAttributes: Codable, Sendable, Hashable {
    package var path: String?
    package var verb: String?

    package init(path: String?, verb: String?) {
        self.path = path
        self.verb = verb
    }
}

/// `spec.resourceAttributes` as on the wire, where the verb sits beside the resource fields.
package struct ResourceAttributesWire: Codable, Sendable, Hashable {
    package var namespace: String?
    package var verb: String?
    package var group: String?
    package var version: String?
    package var resource: String?
    package var subresource: String?
    package var name: String?

    package init(_ attributes: ResourceAttributes, verb: String) {
        self.namespace = attributes.namespace
        self.verb = verb
        self.group = attributes.group
        self.version = attributes.version
        self.resource = attributes.resource
        self.subresource = attributes.subresource
        self.name = attributes.name
    }
}

/// The apiserver's decision. `denied` and `reason` may be absent.
package struct SubjectAccessReviewStatus: Codable, Sendable, Hashable {
    package var allowed: Bool
    package var denied: Bool?
    package var reason: String?
    package var evaluationError: String?

    package init(allowed: Bool, denied: Bool? = nil, reason: String? = nil, evaluationError: String? = nil) {
        self.allowed = allowed
        self.denied = denied
        self.reason = reason
        self.evaluationError = evaluationError
    }
}
