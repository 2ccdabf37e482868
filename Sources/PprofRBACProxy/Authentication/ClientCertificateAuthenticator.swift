import RequestPolicy
import SwiftASN1
import X509

/// Authenticates a client certificate verified against `--client-ca-file`: the subject's common
/// name is the user, its organizations are the groups (as the kube-apiserver's x509 authenticator).
package struct ClientCertificateAuthenticator: Authenticator {
    private let authority: ClientCertificateAuthority

    package init(authority: ClientCertificateAuthority) {
        self.authority = authority
    }

    /// Without a certificate the answer is known at once; a chain's verification is waited for.
    package func authenticateImmediately(_ credentials: Credentials) -> AuthenticationResult? {
        credentials.clientCertificateChain.isEmpty ? .unauthenticated : nil
    }

    package func authenticate(_ credentials: Credentials) async throws -> AuthenticationResult {
        guard let leaf = credentials.clientCertificateChain.first else { return .unauthenticated }
        var verifier = Verifier(rootCertificates: CertificateStore(authority.certificates)) {
            RFC5280Policy()
        }
        let result = await verifier.validate(
            leaf: leaf, intermediates: CertificateStore(credentials.clientCertificateChain.dropFirst())
        )
        guard case .validCertificate = result, Self.allowsClientAuthentication(leaf) else { return .unauthenticated }
        let names = Self.attributes(of: leaf.subject)
        guard let user = names[.RDNAttributeType.commonName]?.first, !user.isEmpty else { return .unauthenticated }
        return .authenticated(
            UserInfo(name: user, groups: names[.RDNAttributeType.organizationName] ?? []),
            origin: DecisionOrigin(.clientCertificate)
        )
    }

    /// Go's rule: a certificate without extended key usages may be used for anything; one with them
    /// must list client authentication (or any usage).
    private static func allowsClientAuthentication(_ certificate: Certificate) -> Bool {
        let usages: ExtendedKeyUsage?
        do {
            usages = try certificate.extensions.extendedKeyUsage
        } catch {
            return false
        }
        guard let usages else { return true }
        return usages.contains(.clientAuth) || usages.contains(.any)
    }

    private static func attributes(of name: DistinguishedName) -> [ASN1ObjectIdentifier: [String]] {
        var values: [ASN1ObjectIdentifier: [String]] = [:]
        for relativeName in name {
            for attribute in relativeName {
                guard let value = String(attribute.value) else { continue }
                values[attribute.type, default: []].append(value)
            }
        }
        return values
    }
}
