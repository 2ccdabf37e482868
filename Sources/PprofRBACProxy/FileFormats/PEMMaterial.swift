import NIOSSL

/// Parses the PEM certificates and keys of a `KubernetesConnection`, with errors that say what is wrong.
package enum PEMMaterial {
    /// Why PEM bytes are not usable; the detail never contains key material.
    package struct InvalidPEM: Error, Sendable, Hashable {
        package var detail: String
    }

    /// The certificates in `pem`; at least one.
    package static func certificates(_ pem: [UInt8]) throws(InvalidPEM) -> [NIOSSLCertificate] {
        let certificates = try? NIOSSLCertificate.fromPEMBytes(pem)
        guard let certificates, !certificates.isEmpty else {
            throw InvalidPEM(detail: "no PEM certificate found")
        }
        return certificates
    }

    /// The unencrypted private key in `pem`.
    package static func privateKey(_ pem: [UInt8]) throws(InvalidPEM) -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(bytes: pem, format: .pem)
        } catch {
            throw InvalidPEM(detail: "no unencrypted PEM private key found")
        }
    }
}
