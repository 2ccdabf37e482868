import Foundation
import PprofRBACProxy

/// What a credential plugin printed: a token and/or a client certificate, and until when they hold.
package struct ExecCredential: Sendable {
    package var token: String?
    package var clientCertificatePEM: [UInt8]?
    package var clientKeyPEM: [UInt8]?
    /// nil: good for as long as this process runs (client-go's reading of a missing expiry).
    package var expiration: Date?

    /// The ExecCredential JSON a plugin printed, checked against the version the kubeconfig asked
    /// for. Errors never quote the output: it holds the credential.
    package init(parsing output: Data, expectedAPIVersion: String) throws(PluginFailure) {
        struct Document: Decodable {
            struct Status: Decodable {
                var token: String?
                var clientCertificateData: String?
                var clientKeyData: String?
                var expirationTimestamp: String?
            }
            var apiVersion: String?
            var kind: String?
            var status: Status?
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: output) else {
            throw .credentialPlugin("its output is not an ExecCredential JSON object")
        }
        guard document.kind == "ExecCredential" else {
            throw .credentialPlugin("its output has kind \"\(document.kind ?? "")\", not ExecCredential")
        }
        guard document.apiVersion == expectedAPIVersion else {
            throw .credentialPlugin(
                "it answered apiVersion \"\(document.apiVersion ?? "")\" but the kubeconfig asks for \(expectedAPIVersion)")
        }
        guard let status = document.status else { throw .credentialPlugin("its ExecCredential has no status") }
        token = status.token.flatMap { $0.isEmpty ? nil : $0 }
        clientCertificatePEM = status.clientCertificateData.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        clientKeyPEM = status.clientKeyData.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        guard token != nil || (clientCertificatePEM != nil && clientKeyPEM != nil) else {
            throw .credentialPlugin("its ExecCredential has neither a token nor a client certificate and key")
        }
        if (clientCertificatePEM == nil) != (clientKeyPEM == nil) {
            throw .credentialPlugin("its ExecCredential has a client certificate without a key, or a key without a certificate")
        }
        if let text = status.expirationTimestamp, !text.isEmpty {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw .credentialPlugin("its expirationTimestamp \"\(text)\" is not an RFC 3339 time")
            }
            expiration = date
        }
    }

    /// Whether it is still good at `now` (with a margin, so it does not expire on the way).
    package func isValid(at now: Date) -> Bool {
        guard let expiration else { return true }
        return expiration.timeIntervalSince(now) > 10
    }
}
