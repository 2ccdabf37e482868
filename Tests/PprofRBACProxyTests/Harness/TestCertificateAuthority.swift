import Crypto
import Foundation
import X509

/// A throwaway certificate authority made in memory, issuing server and client certificates for tests.
struct TestCertificateAuthority {
    /// A certificate with its private key, both PEM.
    struct Issued {
        let certificatePEM: String
        let privateKeyPEM: String
    }

    private let key = P256.Signing.PrivateKey()
    private let certificate: Certificate
    private let name: DistinguishedName

    init(commonName: String = "pprof-rbac-proxy test CA") throws {
        name = try DistinguishedName { CommonName(commonName) }
        certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
    }

    var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// A serving certificate for `dnsNames` and `ipAddresses` (by default `localhost` and 127.0.0.1).
    func issueServerCertificate(dnsNames: [String] = ["localhost"], ipAddresses: [[UInt8]] = [[127, 0, 0, 1]]) throws -> Issued {
        let names = dnsNames.map { GeneralName.dnsName($0) } + ipAddresses.map { .ipAddress(.init(contentBytes: $0[...])) }
        return try issue(commonName: dnsNames.first ?? "server", serverNames: names)
    }

    /// A client certificate for `commonName`, in `organizations`.
    func issueClientCertificate(commonName: String, organizations: [String] = []) throws -> Issued {
        try issue(commonName: commonName, organizations: organizations, serverNames: nil)
    }

    /// The certificate (not the PEM) of a client certificate (or, with `forServer`, a serving one),
    /// for authenticator tests.
    func clientCertificate(
        commonName: String, organizations: [String] = [], forServer: Bool = false, expired: Bool = false
    ) throws -> Certificate {
        let serverNames: [GeneralName]? = forServer ? [.dnsName("localhost")] : nil
        let issued = try issue(commonName: commonName, organizations: organizations, serverNames: serverNames, expired: expired)
        return try Certificate(pemEncoded: issued.certificatePEM)
    }

    /// The CA certificate itself.
    var caCertificate: Certificate { certificate }

    /// A leaf certificate: for a server with `serverNames` as its SANs, or for a client when nil.
    private func issue(
        commonName: String, organizations: [String] = [], serverNames: [GeneralName]?, expired: Bool = false
    ) throws -> Issued {
        let leafKey = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(leafKey.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(expired ? -60 : 3600),
            issuer: name,
            subject: try DistinguishedName {
                for organization in organizations {
                    OrganizationName(organization)
                }
                CommonName(commonName)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                if let serverNames {
                    SubjectAlternativeNames(serverNames)
                    try ExtendedKeyUsage([.serverAuth])
                } else {
                    try ExtendedKeyUsage([.clientAuth])
                }
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return Issued(certificatePEM: try leaf.serializeAsPEM().pemString, privateKeyPEM: leafKey.pemRepresentation)
    }
}
