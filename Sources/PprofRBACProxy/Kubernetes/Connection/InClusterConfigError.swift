/// Why the in-cluster service-account configuration cannot be used although the pod looks like it runs in a cluster.
package enum InClusterConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One of `KUBERNETES_SERVICE_HOST` / `KUBERNETES_SERVICE_PORT` is set and the other is not.
    case incompleteEnvironment(present: String, missing: String)
    /// The host and port do not form a valid URL.
    case invalidAddress(host: String, port: String)
    /// The service-account token file cannot be read or is empty.
    case tokenUnreadable(path: String, reason: String)
    /// The service-account CA bundle cannot be read.
    case certificateAuthorityUnreadable(path: String, reason: String)
    /// The service-account CA bundle holds no usable PEM certificate.
    case invalidCertificateAuthority(path: String, detail: String)

    package var description: String {
        switch self {
        case .incompleteEnvironment(let present, let missing):
            "in-cluster configuration: \(present) is set but \(missing) is not"
        case .invalidAddress(let host, let port):
            "in-cluster configuration: KUBERNETES_SERVICE_HOST \"\(host)\" and KUBERNETES_SERVICE_PORT \"\(port)\" "
                + "do not form a valid address"
        case .tokenUnreadable(let path, let reason):
            "in-cluster configuration: cannot read the service-account token \(path): \(reason) "
                + "(is automountServiceAccountToken disabled?)"
        case .certificateAuthorityUnreadable(let path, let reason):
            "in-cluster configuration: cannot read the service-account CA \(path): \(reason)"
        case .invalidCertificateAuthority(let path, let detail):
            "in-cluster configuration: the service-account CA \(path) is not usable: \(detail)"
        }
    }
}
