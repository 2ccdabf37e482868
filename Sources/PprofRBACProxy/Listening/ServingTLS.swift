import NIOSSL
import X509

/// The TLS contexts the listeners serve with, made from one certificate, key and optional client CA.
struct ServingTLS: Sendable {
    /// The proxy listener: ALPN h2 + http/1.1 (or http/1.1 only), client certificates requested
    /// (never required) when a client CA is configured.
    let proxy: NIOSSLContext
    /// The `--proxy-endpoints-port` listener: http/1.1 only, no client certificates.
    let endpoints: NIOSSLContext
    /// The client CA, parsed for verifying presented certificates; empty without `--client-ca-file`.
    let clientCertificateAuthority: [Certificate]
    /// The leaf certificate served.
    let servingCertificate: NIOSSLCertificate

    init(
        certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, clientCAPEM: [UInt8]?,
        settings: ServingTLSSettings
    ) throws {
        guard let leaf = certificateChain.first else { throw ServingTLSError.noCertificates("--tls-cert-file") }
        self.servingCertificate = leaf
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) }, privateKey: .privateKey(privateKey)
        )
        configuration.minimumTLSVersion = settings.minimumVersion
        if !settings.cipherSuites.isEmpty {
            configuration.cipherSuiteValues = settings.cipherSuites
        }
        configuration.applicationProtocols = ["http/1.1"]
        self.endpoints = try NIOSSLContext(configuration: configuration)

        configuration.applicationProtocols = settings.http2Disabled ? ["http/1.1"] : ["h2", "http/1.1"]
        if let clientCAPEM {
            let authorities = try NIOSSLCertificate.fromPEMBytes(clientCAPEM)
            guard !authorities.isEmpty else { throw ServingTLSError.noCertificates("--client-ca-file") }
            self.clientCertificateAuthority = try authorities.map { try Certificate(derEncoded: $0.toDERBytes()) }
            // Ask for a certificate without requiring one; it is verified by the authenticator, so that
            // a certificate from another CA gets 401 rather than a failed handshake (kube-rbac-proxy).
            configuration.certificateVerification = .optionalVerification
            configuration.trustRoots = .certificates(authorities)
        } else {
            self.clientCertificateAuthority = []
        }
        self.proxy = try NIOSSLContext(configuration: configuration)
    }

    /// Serving TLS from PEM bytes, as read from `--tls-cert-file` and `--tls-private-key-file`.
    init(certificatePEM: [UInt8], privateKeyPEM: [UInt8], clientCAPEM: [UInt8]?, settings: ServingTLSSettings) throws {
        try self.init(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(certificatePEM), privateKey: try NIOSSLPrivateKey(bytes: privateKeyPEM, format: .pem),
            clientCAPEM: clientCAPEM, settings: settings
        )
    }
}

/// A TLS file that parsed but held nothing usable.
enum ServingTLSError: Error, CustomStringConvertible {
    case noCertificates(String)

    var description: String {
        switch self {
        case .noCertificates(let flag): "\(flag) holds no PEM certificate"
        }
    }
}
