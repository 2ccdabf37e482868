import Foundation

/// What `kubectl pprof` presents to the proxy: a bearer token, a client certificate, or both, and
/// in words where they came from (for a 401). The token is never part of any text.
package struct CallerIdentity: Sendable {
    /// Where the bearer token came from.
    package enum TokenSource: Sendable, Equatable {
        case kubeconfigToken(user: String)
        case kubeconfigTokenFile(user: String, path: String)
        case execPlugin(user: String, command: String)
        case serviceAccount(ServiceAccountReference)
    }

    package var bearerToken: String?
    package var tokenSource: TokenSource?
    package var clientCertificatePEM: [UInt8]?
    package var clientKeyPEM: [UInt8]?
    /// The client certificate's subject, as `CN=alice, O=devs`.
    package var clientCertificateSubject: String?
    /// The kubeconfig user it belongs to.
    package var kubeconfigUser: String

    /// What was sent, for messages: "a bearer token from the exec plugin of kubeconfig user \"alice\" (…)".
    package var description: String {
        var parts: [String] = []
        if let tokenSource {
            switch tokenSource {
            case .kubeconfigToken(let user): parts.append("the bearer token of kubeconfig user \"\(user)\"")
            case .kubeconfigTokenFile(let user, let path):
                parts.append("the bearer token in \(path) (tokenFile of kubeconfig user \"\(user)\")")
            case .execPlugin(let user, let command):
                parts.append("a bearer token from \(command), the exec plugin of kubeconfig user \"\(user)\"")
            case .serviceAccount(let account): parts.append("a TokenRequest token of ServiceAccount \(account)")
            }
        }
        if clientCertificatePEM != nil {
            parts.append("the client certificate \(clientCertificateSubject ?? "") of kubeconfig user \"\(kubeconfigUser)\"")
        }
        return parts.isEmpty ? "no credentials (kubeconfig user \"\(kubeconfigUser)\" has none)" : parts.joined(separator: " and ")
    }

    /// The token's secrets to keep out of every text this process writes.
    package var secrets: [String] { bearerToken.map { [$0] } ?? [] }
}
