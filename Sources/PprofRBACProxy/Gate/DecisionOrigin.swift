/// Where an authentication or authorization answer came from, for the audit log and the metrics.
package struct DecisionOrigin: Sendable, Hashable, CustomStringConvertible {
    /// Who decided.
    package enum Source: String, Sendable, Hashable {
        case clientCertificate = "client-certificate"
        case tokenFile = "token-file"
        case tokenReview = "token-review"
        case staticRules = "static"
        case subjectAccessReview = "subject-access-review"
    }

    package var source: Source
    /// Whether the answer was remembered rather than asked for (Kubernetes API answers only).
    package var cached: Bool

    package init(_ source: Source, cached: Bool = false) {
        self.source = source
        self.cached = cached
    }

    /// This answer, as it is when it comes out of a cache.
    var fromCache: DecisionOrigin {
        DecisionOrigin(source, cached: true)
    }

    package var description: String {
        cached ? "\(source.rawValue) (cached)" : source.rawValue
    }
}
