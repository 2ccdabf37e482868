import NIOHTTP1

/// Turns an authenticated request into the questions the authorizers must all allow, as
/// kube-rbac-proxy does: one non-resource question about the path by default; one resource question
/// with `resourceAttributes`; with `rewrites`, one resource question per collected value.
package struct AuthorizationAttributesBuilder: Sendable {
    /// More rewrite values than this in one request are refused, so that a single request cannot
    /// make the proxy send thousands of SubjectAccessReviews.
    package static let maximumRewriteValues = 100

    package var verbMapping: VerbMapping
    package var resourceAttributes: ResourceAttributesTemplate?
    /// Only used together with `resourceAttributes`.
    package var rewrites: AttributeRewrites?

    package init(
        verbMapping: VerbMapping = .apiserver, resourceAttributes: ResourceAttributesTemplate? = nil,
        rewrites: AttributeRewrites? = nil
    ) {
        self.verbMapping = verbMapping
        self.resourceAttributes = resourceAttributes
        self.rewrites = rewrites
    }

    /// The questions for one request. `path` is the normalized path; `rawQuery` the query as received.
    package func questions(
        user: UserInfo, method: HTTPMethod, path: String, rawQuery: String?, headers: HTTPHeaders
    ) throws(AuthorizationAttributesError) -> [AuthorizationAttributes] {
        guard let resourceAttributes else {
            return [AuthorizationAttributes(user: user, verb: verbMapping.verb(for: method), target: .nonResource(path: path))]
        }
        let verb = verbMapping.resourceVerb(for: method)
        guard let rewrites else {
            return [AuthorizationAttributes(user: user, verb: verb, target: .resource(resourceAttributes.rendered(value: "")))]
        }
        var values: [String] = []
        if let parameter = rewrites.queryParameter {
            values += URLQuery(parsing: rawQuery ?? "").values(for: parameter)
        }
        if let header = rewrites.httpHeader {
            values += headers[header]
        }
        guard !values.isEmpty else { throw .noRewriteValue }
        guard values.count <= Self.maximumRewriteValues else {
            throw .tooManyRewriteValues(count: values.count, limit: Self.maximumRewriteValues)
        }
        return values.map { value in
            AuthorizationAttributes(user: user, verb: verb, target: .resource(resourceAttributes.rendered(value: value)))
        }
    }
}

/// Why no questions could be built for a request.
package enum AuthorizationAttributesError: Error, Sendable, Hashable {
    /// Rewrites are configured but the request carries neither the query parameter nor the header.
    case noRewriteValue
    case tooManyRewriteValues(count: Int, limit: Int)
}
