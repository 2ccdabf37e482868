import Foundation
import NIOSSL
import PprofRBACProxy

/// Where and how to reach one proxy: the address to connect to, the name its certificate must
/// carry, and whom to trust.
package struct ProxyEndpoint: Sendable {
    package var host: String
    package var port: Int
    /// The name checked against the certificate (and sent as SNI unless it is an IP address).
    package var serverName: String
    /// `--cacert`; nil: this machine's trust roots.
    package var caCertificatePath: String?
    package var insecureSkipTLSVerify: Bool

    /// TLS for it, presenting `identity`'s client certificate if it has one. The chain is verified
    /// here, the name by `ConnectionDiagnosis.nameMismatch` after the handshake.
    package func tlsConfiguration(presenting identity: CallerIdentity) throws(PluginFailure) -> TLSConfiguration {
        var trusted: [UInt8]?
        if !insecureSkipTLSVerify, let caCertificatePath {
            guard let pem = FileManager.default.contents(atPath: caCertificatePath) else {
                throw .connection("cannot read --cacert \(caCertificatePath)")
            }
            trusted = Array(pem)
        }
        var tls: TLSConfiguration
        do throws(ClientTLS.Problem) {
            tls = try ClientTLS.configuration(
                trustedPEM: trusted, insecure: insecureSkipTLSVerify,
                certificatePEM: identity.clientCertificatePEM, keyPEM: identity.clientKeyPEM)
        } catch {
            switch error {
            case .trust(let detail): throw .connection("--cacert \(caCertificatePath ?? ""): \(detail)")
            case .certificate(let detail), .key(let detail):
                throw .kubeconfig("the client certificate of kubeconfig user \"\(identity.kubeconfigUser)\": \(detail)")
            case .incomplete:
                throw .kubeconfig("kubeconfig user \"\(identity.kubeconfigUser)\" has a client certificate or key without the other")
            }
        }
        if !insecureSkipTLSVerify { tls.certificateVerification = .noHostnameVerification }
        tls.applicationProtocols = ["http/1.1"]
        return tls
    }

    /// Whether `serverName` is an IPv4 or IPv6 address (checked against the certificate's IP names, no SNI).
    package var serverNameIsAddress: Bool {
        serverName.contains(":") || serverName.split(separator: ".").count == 4 && serverName.allSatisfy { $0.isNumber || $0 == "." }
    }
}
