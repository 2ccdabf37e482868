/// Where an authentication or authorization answer came from, for the audit log and the metrics.
public struct DecisionOrigin: Sendable, Hashable, CustomStringConvertible {
    /// Who decided.
    public enum Source: String, Sendable, Hashable {
        case clientCertificate = "client-certificate"
        case tokenFile = "token-file"
        case tokenReview = "token-review"
        case staticRules = "static"
        case subjectAccessReview = "subject-access-review"
    }

    public var source: Source
    /// Whether the answer was remembered rather than asked for (Kubernetes API answers only).
    public var cached: Bool

    public init(_ source: Source, cached: Bool = false) {
        self.source = source
        self.cached = cached
    }

    /// This answer, as it is when it comes out of a cache.
    var fromCache: DecisionOrigin {
        DecisionOrigin(source, cached: true)
    }

    public var description: String {
        cached ? "\(source.rawValue) (cached)" : source.rawValue
    }
}
