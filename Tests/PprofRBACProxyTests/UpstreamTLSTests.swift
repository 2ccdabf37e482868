import NIOSSL
import Testing

@testable import PprofRBACProxy

@Suite("UpstreamTLS: whom the proxy trusts upstream and what it presents")
struct UpstreamTLSTests {
    /// A directory holding a CA and a client certificate and key, all PEM.
    struct Files {
        let directory: TemporaryDirectory
        let caFile: String
        let clientCertificateFile: String
        let clientKeyFile: String

        init() throws {
            directory = try TemporaryDirectory()
            let authority = try TestCertificateAuthority()
            let client = try authority.issueClientCertificate(commonName: "pprof-rbac-proxy")
            caFile = try directory.write(try authority.certificatePEM, to: "ca.crt")
            clientCertificateFile = try directory.write(client.certificatePEM, to: "client.crt")
            clientKeyFile = try directory.write(client.privateKeyPEM, to: "client.key")
        }
    }

    @Test("--upstream-ca-file is the only trust; verification is full")
    func caFile() throws {
        let files = try Files()
        defer { files.directory.remove() }
        let tls = try UpstreamTLS(host: "127.0.0.1", caFile: files.caFile, clientCertificate: nil)
        let authority = try NIOSSLCertificate.fromPEMFile(files.caFile)
        #expect(tls.configuration.trustRoots == .certificates(authority))
        #expect(tls.configuration.certificateVerification == .fullVerification)
        #expect(tls.configuration.certificateChain.isEmpty)
        #expect(tls.configuration.applicationProtocols == ["http/1.1"])
    }

    @Test("without --upstream-ca-file the system roots are trusted, never nothing")
    func systemRoots() throws {
        let tls = try UpstreamTLS(host: "127.0.0.1", caFile: nil, clientCertificate: nil)
        #expect(tls.configuration.trustRoots == .default)
        #expect(tls.configuration.certificateVerification == .fullVerification)
    }

    @Test("a client certificate is presented even without --upstream-ca-file (kube-rbac-proxy ignores it then)")
    func clientCertificateWithoutCA() throws {
        let files = try Files()
        defer { files.directory.remove() }
        let tls = try UpstreamTLS(
            host: "127.0.0.1", caFile: nil, clientCertificate: (files.clientCertificateFile, files.clientKeyFile)
        )
        #expect(tls.configuration.trustRoots == .default)
        let certificate = try NIOSSLCertificate.fromPEMFile(files.clientCertificateFile)
        #expect(tls.configuration.certificateChain == certificate.map { .certificate($0) })
        #expect(tls.configuration.privateKey == .privateKey(try NIOSSLPrivateKey(file: files.clientKeyFile, format: .pem)))
    }

    @Test("host names are sent as SNI and verified; IP addresses are verified against IP SANs without SNI")
    func serverNames() throws {
        #expect(try UpstreamTLS(host: "pprof.example", caFile: nil, clientCertificate: nil).serverHostname == "pprof.example")
        #expect(try UpstreamTLS(host: "127.0.0.1", caFile: nil, clientCertificate: nil).serverHostname == nil)
        #expect(try UpstreamTLS(host: "::1", caFile: nil, clientCertificate: nil).serverHostname == nil)
    }

    @Test("missing and malformed files are startup errors naming the flag")
    func badFiles() throws {
        let files = try Files()
        defer { files.directory.remove() }
        let missing = files.directory.path + "/missing.crt"
        #expect {
            try UpstreamTLS(host: "127.0.0.1", caFile: missing, clientCertificate: nil)
        } throws: { error in
            guard case .unreadableFile(flag: "--upstream-ca-file", path: missing, _) = error as? ConfigurationError else { return false }
            return true
        }
        let notPEM = try files.directory.write("not a certificate", to: "garbage.pem")
        #expect {
            try UpstreamTLS(host: "127.0.0.1", caFile: nil, clientCertificate: (notPEM, files.clientKeyFile))
        } throws: { error in
            guard case .invalidFlag(flag: "--upstream-client-cert-file", value: notPEM, _) = error as? ConfigurationError else { return false }
            return true
        }
        #expect {
            try UpstreamTLS(host: "127.0.0.1", caFile: nil, clientCertificate: (files.clientCertificateFile, notPEM))
        } throws: { error in
            guard case .invalidFlag(flag: "--upstream-client-key-file", value: notPEM, _) = error as? ConfigurationError else { return false }
            return true
        }
    }

    @Test("a key that does not belong to the client certificate is a startup error")
    func mismatchedKey() throws {
        let files = try Files()
        defer { files.directory.remove() }
        let other = try TestCertificateAuthority().issueClientCertificate(commonName: "someone-else")
        let otherKey = try files.directory.write(other.privateKeyPEM, to: "other.key")
        #expect {
            try UpstreamTLS(host: "127.0.0.1", caFile: nil, clientCertificate: (files.clientCertificateFile, otherKey))
        } throws: { error in
            guard case .invalidFlag(flag: "--upstream-client-key-file", value: otherKey, _) = error as? ConfigurationError else { return false }
            return true
        }
    }
}
