import NIOCore
import NIOSSL

/// How the proxy speaks TLS to an `https://` upstream: it trusts `--upstream-ca-file` (else the
/// system roots), presents `--upstream-client-cert-file`/`--upstream-client-key-file` if given
/// (with or without a CA file), offers only HTTP/1.1, and always verifies the upstream's certificate.
struct UpstreamTLS: Sendable {
    /// The settings the context was made from.
    let configuration: TLSConfiguration
    let context: NIOSSLContext
    /// The SNI name, which the certificate's DNS names must match; nil for an IP-address upstream,
    /// whose certificate must carry that address among its IP SANs (NIOSSL checks the peer address).
    let serverHostname: String?

    init(
        host: String, caFile: String?, clientCertificate: (certificateFile: String, keyFile: String)?
    ) throws(ConfigurationError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        if let caFile {
            configuration.trustRoots = .certificates(try Self.certificates(flag: "--upstream-ca-file", path: caFile))
        } else {
            configuration.trustRoots = .default
        }
        if let pair = clientCertificate {
            configuration.certificateChain = try Self.certificates(flag: "--upstream-client-cert-file", path: pair.certificateFile)
                .map { .certificate($0) }
            configuration.privateKey = .privateKey(try Self.privateKey(flag: "--upstream-client-key-file", path: pair.keyFile))
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw clientCertificate.map {
                .invalidFlag(flag: "--upstream-client-key-file", value: $0.keyFile, reason: "unusable with the client certificate: \(error)")
            } ?? .invalidFlag(flag: "--upstream-ca-file", value: caFile ?? "", reason: "unusable: \(error)")
        }
        self.configuration = configuration
        self.serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    /// A TLS handler for one new connection.
    func makeHandler() throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
    }

    private static func certificates(flag: String, path: String) throws(ConfigurationError) -> [NIOSSLCertificate] {
        let pem = try contents(flag: flag, path: path)
        do throws(PEMMaterial.InvalidPEM) {
            return try PEMMaterial.certificates(pem)
        } catch {
            throw .invalidFlag(flag: flag, value: path, reason: error.detail)
        }
    }

    private static func privateKey(flag: String, path: String) throws(ConfigurationError) -> NIOSSLPrivateKey {
        let pem = try contents(flag: flag, path: path)
        do throws(PEMMaterial.InvalidPEM) {
            return try PEMMaterial.privateKey(pem)
        } catch {
            throw .invalidFlag(flag: flag, value: path, reason: error.detail)
        }
    }

    private static func contents(flag: String, path: String) throws(ConfigurationError) -> [UInt8] {
        do {
            return try LocalFile.contents(atPath: path)
        } catch {
            throw .unreadableFile(flag: flag, path: path, reason: error.reason)
        }
    }
}
