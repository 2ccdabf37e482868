/// What a `kubectl pprof` run was asked to do, checked by `PprofCommand`.
package struct PluginOptions: Sendable {
    /// Where the proxy is.
    package enum Destination: Sendable, Hashable {
        case target(TargetReference)
        case selector(String)
        case url(String)
    }

    package var profile: ProfileKind
    package var destination: Destination
    package var namespace: String?
    package var all: Bool
    package var port: String?
    package var kubeconfig: String?
    package var context: String?
    package var tokenFromServiceAccount: ServiceAccountReference?
    package var tokenAudiences: [String]
    package var caCertificate: String?
    package var tlsServerName: String?
    package var insecureSkipTLSVerify: Bool
    /// The query sent to pprof, in order.
    package var query: [(name: String, value: String)]
    /// How long the capture runs, for the progress line (nil: answered at once).
    package var seconds: Int?
    package var debug: Int?
    package var output: String?
    package var waitWhenBusy: Bool
    package var open: Bool
    package var diffBase: String?

    /// The request target: the profile's path and the query.
    package var requestTarget: String {
        let query = query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        return query.isEmpty ? profile.path : profile.path + "?" + query
    }
}

/// A ServiceAccount named as `NAMESPACE/NAME`.
package struct ServiceAccountReference: Sendable, Hashable, CustomStringConvertible {
    package var namespace: String
    package var name: String

    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        namespace = String(parts[0])
        name = String(parts[1])
    }

    package var description: String { "\(namespace)/\(name)" }
    /// The user name the API server gives its tokens.
    package var userName: String { "system:serviceaccount:\(namespace):\(name)" }
}
