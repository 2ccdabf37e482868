/// Why a `KubernetesConnection` cannot be turned into an API client. Descriptions never contain secrets.
package enum KubernetesConnectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server URL is not `https` (or `http` to a loopback host), or has credentials, a query or a fragment.
    case invalidServer(server: String, reason: String)
    /// The CA certificates are not usable PEM.
    case invalidCertificateAuthority(String)
    /// The client certificate is not usable PEM.
    case invalidClientCertificate(String)
    /// The client key is not a usable unencrypted PEM key.
    case invalidClientKey(String)
    /// Only one of the client certificate and its key is given.
    case incompleteClientCertificate
    /// The bearer token file cannot be read or is empty.
    case tokenFileUnreadable(path: String, reason: String)

    package var description: String {
        switch self {
        case .invalidServer(let server, let reason):
            "Kubernetes API server \(server) is not usable: \(reason)"
        case .invalidCertificateAuthority(let detail):
            "Kubernetes API CA certificates are not usable: \(detail)"
        case .invalidClientCertificate(let detail):
            "Kubernetes API client certificate is not usable: \(detail)"
        case .invalidClientKey(let detail):
            "Kubernetes API client key is not usable: \(detail)"
        case .incompleteClientCertificate:
            "Kubernetes API client certificate and key must be given together"
        case .tokenFileUnreadable(let path, let reason):
            "Kubernetes API token file \(path) is not usable: \(reason)"
        }
    }
}
