/// Where the bearer token the proxy presents to the Kubernetes API comes from.
package enum KubernetesBearerToken: Sendable, Hashable, CustomStringConvertible {
    /// No `Authorization` header (client certificates or an anonymous-friendly server).
    case none
    /// A fixed token, as in a kubeconfig `token` field.
    case literal(String)
    /// A file re-read periodically, as in a kubeconfig `tokenFile` or a projected service-account token.
    case file(path: String)

    /// Names the source without ever showing a token value.
    package var description: String {
        switch self {
        case .none: "none"
        case .literal: "literal token (redacted)"
        case .file(let path): "token file \(path)"
        }
    }
}
