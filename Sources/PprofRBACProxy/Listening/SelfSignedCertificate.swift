import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A serving certificate made in memory at startup when no `--tls-cert-file` is given, valid for
/// the host name, `localhost` and `127.0.0.1` (kube-rbac-proxy makes one for the host name only).
package struct SelfSignedCertificate: Sendable {
    package let certificate: NIOSSLCertificate
    package let privateKey: NIOSSLPrivateKey
    package let hostNames: [String]

    package init(hostName: String = ProcessInfo.processInfo.hostName, validity: TimeInterval = 365 * 24 * 3600) throws {
        let key = P256.Signing.PrivateKey()
        let hostNames = Array(Set([hostName, "localhost"])).sorted()
        let name = try DistinguishedName { CommonName(hostName) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: now + validity,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(
                    hostNames.map { GeneralName.dnsName($0) }
                        + [.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
                )
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        self.certificate = try NIOSSLCertificate(bytes: Array(certificate.serializeAsPEM().pemString.utf8), format: .pem)
        self.privateKey = try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)
        self.hostNames = hostNames
    }
}
