import Foundation

/// How to reach the Kubernetes API server: its URL, how to trust it and how to identify to it.
package struct KubernetesConnection: Sendable, Hashable, CustomStringConvertible {
    /// The API server's base URL (`https`, or `http` on a loopback host only).
    package var server: URL
    /// PEM certificates trusted to sign the server's certificate; nil means the system's trust roots.
    package var caCertificatesPEM: [UInt8]?
    /// Skip verification of the server's certificate (kubeconfig `insecure-skip-tls-verify`).
    package var insecureSkipTLSVerify: Bool
    /// PEM client certificate chain presented to the server.
    package var clientCertificatePEM: [UInt8]?
    /// PEM private key of the client certificate.
    package var clientKeyPEM: [UInt8]?
    /// The bearer token sent in `Authorization` headers.
    package var bearerToken: KubernetesBearerToken

    package init(
        server: URL,
        caCertificatesPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false,
        clientCertificatePEM: [UInt8]? = nil,
        clientKeyPEM: [UInt8]? = nil,
        bearerToken: KubernetesBearerToken = .none
    ) {
        self.server = server
        self.caCertificatesPEM = caCertificatesPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.bearerToken = bearerToken
    }

    /// A summary for logs: no key material, no token value.
    package var description: String {
        let trust =
            if insecureSkipTLSVerify { "insecure-skip-tls-verify" }
            else if caCertificatesPEM != nil { "custom CA" }
            else { "system trust roots" }
        let clientCertificate = clientCertificatePEM == nil ? "no client certificate" : "client certificate"
        return "Kubernetes API \(server.absoluteString) (\(trust), \(clientCertificate), bearer token: \(bearerToken))"
    }
}
