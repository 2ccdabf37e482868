import RequestPolicy

/// An `authorization.k8s.io/v1` SubjectAccessReview: asks the apiserver whether a user may do something.
public struct SubjectAccessReview: Codable, Sendable {
    public static let apiVersion = "authorization.k8s.io/v1"
    public static let kind = "SubjectAccessReview"
    public static let path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta?
    public var spec: SubjectAccessReviewSpec
    public var status: SubjectAccessReviewStatus?

    /// A review to create: the shape client-go sends, with `status.allowed` false.
    public init(spec: SubjectAccessReviewSpec) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = ObjectMeta()
        self.spec = spec
        self.status = SubjectAccessReviewStatus(allowed: false)
    }
}

/// Who asks to do what. Exactly one of the two attribute sets is present.
public struct SubjectAccessReviewSpec: Codable, Sendable, Hashable {
    public var resourceAttributes: ResourceAttributesWire?
    public var nonResourceAttributes: NonResourceAttributes?
    public var user: String?
    public var groups: [String]?
    public var extra: [String: [String]]?
    public var uid: String?

    public init(
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
    public init(_ attributes: AuthorizationAttributes) {
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
public struct NonResourceAttributes: Codable, Sendable, Hashable {
    public var path: String?
    public var verb: String?

    public init(path: String?, verb: String?) {
        self.path = path
        self.verb = verb
    }
}

/// `spec.resourceAttributes` as on the wire, where the verb sits beside the resource fields.
public struct ResourceAttributesWire: Codable, Sendable, Hashable {
    public var namespace: String?
    public var verb: String?
    public var group: String?
    public var version: String?
    public var resource: String?
    public var subresource: String?
    public var name: String?

    public init(_ attributes: ResourceAttributes, verb: String) {
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
public struct SubjectAccessReviewStatus: Codable, Sendable, Hashable {
    public var allowed: Bool
    public var denied: Bool?
    public var reason: String?
    public var evaluationError: String?

    public init(allowed: Bool, denied: Bool? = nil, reason: String? = nil, evaluationError: String? = nil) {
        self.allowed = allowed
        self.denied = denied
        self.reason = reason
        self.evaluationError = evaluationError
    }
}
