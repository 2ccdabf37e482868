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

    /// TLS for it, presenting `identity`'s client certificate if it has one.
    package func tlsConfiguration(presenting identity: CallerIdentity) throws(PluginFailure) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["http/1.1"]
        // The chain is verified here, the name by `ConnectionDiagnosis.nameMismatch` after the handshake.
        tls.certificateVerification = insecureSkipTLSVerify ? .none : .noHostnameVerification
        if !insecureSkipTLSVerify, let caCertificatePath {
            guard let pem = try? Array(String(contentsOfFile: caCertificatePath, encoding: .utf8).utf8) else {
                throw .connection("cannot read --cacert \(caCertificatePath)")
            }
            do throws(PEMMaterial.InvalidPEM) {
                tls.trustRoots = .certificates(try PEMMaterial.certificates(pem))
            } catch {
                throw .connection("--cacert \(caCertificatePath): \(error.detail)")
            }
        }
        if let certificate = identity.clientCertificatePEM, let key = identity.clientKeyPEM {
            do throws(PEMMaterial.InvalidPEM) {
                tls.certificateChain = try PEMMaterial.certificates(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try PEMMaterial.privateKey(key))
            } catch {
                throw .kubeconfig("the client certificate of kubeconfig user \"\(identity.kubeconfigUser)\": \(error.detail)")
            }
        }
        return tls
    }

    /// Whether `serverName` is an IPv4 or IPv6 address (checked against the certificate's IP names, no SNI).
    package var serverNameIsAddress: Bool {
        serverName.contains(":") || serverName.split(separator: ".").count == 4 && serverName.allSatisfy { $0.isNumber || $0 == "." }
    }
}
