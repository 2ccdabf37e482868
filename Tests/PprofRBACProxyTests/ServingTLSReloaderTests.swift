import Foundation
import Logging
import NIOSSL
import Testing
import X509

@testable import PprofRBACProxy

@Suite("ServingTLSReloader: new files are served without a restart, broken ones never")
struct ServingTLSReloaderTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The serving certificate's DER bytes, to compare with what a file holds.
    func served(_ reloader: ServingTLSReloader) throws -> [UInt8] {
        try reloader.current.servingCertificate.toDERBytes()
    }

    func der(_ pem: String) throws -> [UInt8] {
        try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem).toDERBytes()
    }

    /// The serving certificate's expiry as `/metrics` exports it.
    func expiry(_ metrics: ProxyMetrics) throws -> Double {
        try #require(MetricsExposition(metrics.exposition()).value("pprof_rbac_proxy_serving_certificate_expiry_timestamp_seconds"))
    }

    func notAfter(_ pem: String) throws -> Double {
        try Certificate(pemEncoded: pem).notValidAfter.timeIntervalSince1970.rounded(.down)
    }

    @Test("an atomically replaced pair is picked up; a mismatched or half-written one is refused and the old kept")
    func atomicReplace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let authority = try TestCertificateAuthority()
        let first = try authority.issueServerCertificate()
        let certificate = try directory.write(first.certificatePEM, to: "tls.crt")
        let key = try directory.write(first.privateKeyPEM, to: "tls.key")
        let metrics = ProxyMetrics()
        let reloader = try ServingTLSReloader(
            source: .files(certificate: certificate, privateKey: key, clientCA: nil), settings: ServingTLSSettings(),
            interval: .seconds(1), clientCertificateAuthority: ClientCertificateAuthority([]), metrics: metrics, logger: logger
        )
        #expect(try served(reloader) == der(first.certificatePEM))
        #expect(try expiry(metrics) == notAfter(first.certificatePEM), "the expiry gauge holds the served leaf's notAfter")

        let second = try authority.issueServerCertificate()
        try directory.write(second.certificatePEM, to: "tls.crt")
        reloader.reloadIfChanged()
        #expect(try served(reloader) == der(first.certificatePEM), "a certificate without its key must not be served")

        try directory.write(second.privateKeyPEM, to: "tls.key")
        reloader.reloadIfChanged()
        #expect(try served(reloader) == der(second.certificatePEM))
        #expect(try expiry(metrics) == notAfter(second.certificatePEM))

        try directory.write(String(second.certificatePEM.prefix(100)), to: "tls.crt")
        reloader.reloadIfChanged()
        #expect(try served(reloader) == der(second.certificatePEM))

        try FileManager.default.removeItem(atPath: key)
        reloader.reloadIfChanged()
        #expect(try served(reloader) == der(second.certificatePEM))
    }

    @Test("Kubernetes Secret volumes: the ..data symlink swapped twice, certificate and client CA follow")
    func secretSymlinkSwap() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let files = FileManager.default
        let authority = try TestCertificateAuthority()
        let clientAuthorities = [try TestCertificateAuthority(commonName: "client CA 1"), try TestCertificateAuthority(commonName: "client CA 2"), try TestCertificateAuthority(commonName: "client CA 3")]
        let pairs = [try authority.issueServerCertificate(), try authority.issueServerCertificate(), try authority.issueServerCertificate()]

        func publish(_ index: Int) throws {
            let version = "..2026_11_25_\(index)"
            try directory.write(pairs[index].certificatePEM, to: "\(version)/tls.crt")
            try directory.write(pairs[index].privateKeyPEM, to: "\(version)/tls.key")
            try directory.write(try clientAuthorities[index].certificatePEM, to: "\(version)/ca.crt")
            let temporaryLink = directory.path + "/..data_tmp"
            try files.createSymbolicLink(atPath: temporaryLink, withDestinationPath: version)
            guard rename(temporaryLink, directory.path + "/..data") == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
        try publish(0)
        for name in ["tls.crt", "tls.key", "ca.crt"] {
            try files.createSymbolicLink(atPath: directory.path + "/" + name, withDestinationPath: "..data/" + name)
        }

        let clientCertificateAuthority = ClientCertificateAuthority([])
        let reloader = try ServingTLSReloader(
            source: .files(certificate: directory.path + "/tls.crt", privateKey: directory.path + "/tls.key", clientCA: directory.path + "/ca.crt"),
            settings: ServingTLSSettings(), interval: .seconds(1),
            clientCertificateAuthority: clientCertificateAuthority, metrics: ProxyMetrics(), logger: logger
        )
        #expect(clientCertificateAuthority.certificates == [clientAuthorities[0].caCertificate])
        for index in 1...2 {
            try publish(index)
            reloader.reloadIfChanged()
            #expect(try served(reloader) == der(pairs[index].certificatePEM))
            #expect(clientCertificateAuthority.certificates == [clientAuthorities[index].caCertificate])
        }
    }

    @Test("a generated certificate with a client CA file: only the CA is watched")
    func generatedWithClientCA() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try TestCertificateAuthority(commonName: "first")
        let second = try TestCertificateAuthority(commonName: "second")
        let caFile = try directory.write(try first.certificatePEM, to: "ca.crt")
        let clientCertificateAuthority = ClientCertificateAuthority([])
        let reloader = try ServingTLSReloader(
            source: .generated(try SelfSignedCertificate(hostName: "test"), clientCA: caFile), settings: ServingTLSSettings(),
            interval: .seconds(1), clientCertificateAuthority: clientCertificateAuthority, metrics: ProxyMetrics(), logger: logger
        )
        #expect(clientCertificateAuthority.certificates == [first.caCertificate])
        try directory.write("not a certificate", to: "ca.crt")
        reloader.reloadIfChanged()
        #expect(clientCertificateAuthority.certificates == [first.caCertificate])
        try directory.write(try second.certificatePEM, to: "ca.crt")
        reloader.reloadIfChanged()
        #expect(clientCertificateAuthority.certificates == [second.caCertificate])
    }

    @Test("unloadable files stop startup")
    func startupFailure() throws {
        #expect(throws: (any Error).self) {
            try ServingTLSReloader(
                source: .files(certificate: "/nonexistent/tls.crt", privateKey: "/nonexistent/tls.key", clientCA: nil),
                settings: ServingTLSSettings(), interval: .seconds(1),
                clientCertificateAuthority: ClientCertificateAuthority([]), metrics: ProxyMetrics(), logger: logger
            )
        }
    }
}
