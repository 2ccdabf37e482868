import NIOCore
import NIOPosix
import Testing

@testable import PprofRBACProxy

@Suite("HTTP1LoopPool over TLS: a verified HTTPS upstream, with and without client certificates", .timeLimit(.minutes(2)))
struct HTTP1LoopPoolTests {
    /// A CA, a serving certificate from it for the test server, and a client certificate, as PEM files.
    struct Certificates {
        static let clientCommonName = "pprof-rbac-proxy-test-client"

        let directory: TemporaryDirectory
        let caFile: String
        let serverCertificateFile: String
        let serverKeyFile: String
        let clientCertificateFile: String
        let clientKeyFile: String

        init(serverDNSNames: [String] = ["localhost"], serverIPAddresses: [[UInt8]] = [[127, 0, 0, 1]]) throws {
            directory = try TemporaryDirectory()
            let authority = try TestCertificateAuthority()
            let server = try authority.issueServerCertificate(dnsNames: serverDNSNames, ipAddresses: serverIPAddresses)
            let client = try authority.issueClientCertificate(commonName: Self.clientCommonName)
            caFile = try directory.write(try authority.certificatePEM, to: "ca.crt")
            serverCertificateFile = try directory.write(server.certificatePEM, to: "server.crt")
            serverKeyFile = try directory.write(server.privateKeyPEM, to: "server.key")
            clientCertificateFile = try directory.write(client.certificatePEM, to: "client.crt")
            clientKeyFile = try directory.write(client.privateKeyPEM, to: "client.key")
        }

        /// pprof-server flags: serve HTTPS with the serving certificate, and require client certificates if asked.
        func serverArguments(requireClientCertificates: Bool) -> [String] {
            ["-tls-cert", serverCertificateFile, "-tls-key", serverKeyFile]
                + (requireClientCertificates ? ["-client-ca", caFile] : [])
        }
    }

    private static func client(
        host: String = "127.0.0.1", port: Int, caFile: String?, clientCertificate: (String, String)?,
        handshakeTimeout: TimeAmount = .seconds(10)
    ) throws -> UpstreamTestClient {
        let tls = try UpstreamTLS(
            host: host, caFile: caFile, clientCertificate: clientCertificate.map { (certificateFile: $0.0, keyFile: $0.1) }
        )
        var configuration = UpstreamConnectionPool.Configuration(
            target: UpstreamTarget(scheme: .https, host: host, port: port), transport: .http1(tls: tls)
        )
        configuration.tlsHandshakeTimeout = handshakeTimeout
        let group = MultiThreadedEventLoopGroup.singleton
        return UpstreamTestClient(
            connector: UpstreamConnectionPool(configuration: configuration, eventLoopGroup: group), eventLoop: group.next()
        )
    }

    /// The reason of the `connectFailed` error `body` throws; fails the test if it throws anything else.
    private static func connectFailure(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            Issue.record("expected the exchange to fail")
        } catch UpstreamError.connectFailed(let reason) {
            return reason
        } catch {
            Issue.record("expected connectFailed, got \(error)")
        }
        return nil
    }

    @Test("the upstream's CA and a client certificate: 200, and the upstream saw the client certificate's CN")
    func mutualTLS() async throws {
        let certificates = try Certificates()
        defer { certificates.directory.remove() }
        try await PprofServerProcess.with(arguments: certificates.serverArguments(requireClientCertificates: true)) { server in
            let client = try Self.client(
                port: server.port, caFile: certificates.caFile,
                clientCertificate: (certificates.clientCertificateFile, certificates.clientKeyFile)
            )
            let response = try await client.get("/debug/pprof/cmdline")
            #expect(response.status == .ok)
            let records = try await client.upstreamRequests()
            #expect(records.map(\.path) == ["/debug/pprof/cmdline"])
            #expect(records.first?.clientCN == Certificates.clientCommonName)
            #expect(records.first?.proto == "HTTP/1.1", "only http/1.1 is offered to a TLS upstream")
        }
    }

    @Test("connections over TLS are kept alive and reused")
    func keepAlive() async throws {
        let certificates = try Certificates()
        defer { certificates.directory.remove() }
        try await PprofServerProcess.with(arguments: certificates.serverArguments(requireClientCertificates: false)) { server in
            let client = try Self.client(port: server.port, caFile: certificates.caFile, clientCertificate: nil)
            #expect(try await client.get("/debug/pprof/cmdline").status == .ok)
            #expect(try await client.get("/debug/pprof/cmdline").status == .ok)
            let records = try await client.upstreamRequests()
            #expect(records.count == 2)
            #expect(Set(records.map(\.remoteAddr)).count == 1, "\(records.map(\.remoteAddr))")
        }
    }

    @Test("an upstream certificate from another CA: connectFailed, the request never sent")
    func untrustedCertificate() async throws {
        let certificates = try Certificates()
        let stranger = try Certificates()
        defer {
            certificates.directory.remove()
            stranger.directory.remove()
        }
        try await PprofServerProcess.with(arguments: certificates.serverArguments(requireClientCertificates: false)) { server in
            let client = try Self.client(port: server.port, caFile: stranger.caFile, clientCertificate: nil)
            let reason = await Self.connectFailure { _ = try await client.get("/debug/pprof/cmdline") }
            #expect(reason?.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(reason ?? "")")
            let trusting = try Self.client(port: server.port, caFile: certificates.caFile, clientCertificate: nil)
            #expect(try await trusting.upstreamRequests().isEmpty)
        }
    }

    @Test("an IP-address upstream whose certificate lacks that IP: connectFailed")
    func ipAddressNotInCertificate() async throws {
        let certificates = try Certificates(serverDNSNames: ["localhost"], serverIPAddresses: [])
        defer { certificates.directory.remove() }
        try await PprofServerProcess.with(arguments: certificates.serverArguments(requireClientCertificates: false)) { server in
            let client = try Self.client(port: server.port, caFile: certificates.caFile, clientCertificate: nil)
            let reason = await Self.connectFailure { _ = try await client.get("/debug/pprof/cmdline") }
            #expect(reason?.contains("not valid for 127.0.0.1") == true, "\(reason ?? "")")
        }
    }

    @Test("a host-name upstream is verified against the certificate's DNS names")
    func hostName() async throws {
        let matching = try Certificates(serverDNSNames: ["localhost"], serverIPAddresses: [])
        let other = try Certificates(serverDNSNames: ["pprof.example"], serverIPAddresses: [])
        defer {
            matching.directory.remove()
            other.directory.remove()
        }
        try await PprofServerProcess.with(arguments: matching.serverArguments(requireClientCertificates: false)) { server in
            let client = try Self.client(host: "localhost", port: server.port, caFile: matching.caFile, clientCertificate: nil)
            #expect(try await client.get("/debug/pprof/cmdline").status == .ok)
        }
        try await PprofServerProcess.with(arguments: other.serverArguments(requireClientCertificates: false)) { server in
            let client = try Self.client(host: "localhost", port: server.port, caFile: other.caFile, clientCertificate: nil)
            let reason = await Self.connectFailure { _ = try await client.get("/debug/pprof/cmdline") }
            #expect(reason?.contains("not valid for localhost") == true, "\(reason ?? "")")
        }
    }

    @Test("a client certificate without --upstream-ca-file: the system roots decide, so a private CA is refused")
    func clientCertificateWithSystemRoots() async throws {
        let certificates = try Certificates()
        defer { certificates.directory.remove() }
        try await PprofServerProcess.with(arguments: certificates.serverArguments(requireClientCertificates: true)) { server in
            let client = try Self.client(
                port: server.port, caFile: nil,
                clientCertificate: (certificates.clientCertificateFile, certificates.clientKeyFile)
            )
            let reason = await Self.connectFailure { _ = try await client.get("/debug/pprof/cmdline") }
            #expect(reason?.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(reason ?? "")")
        }
    }

    @Test("an upstream that requires a client certificate the proxy lacks: the exchange fails, never a response")
    func missingClientCertificate() async throws {
        let certificates = try Certificates()
        defer { certificates.directory.remove() }
        try await PprofServerProcess.with(arguments: certificates.serverArguments(requireClientCertificates: true)) { server in
            let client = try Self.client(port: server.port, caFile: certificates.caFile, clientCertificate: nil)
            await #expect(throws: UpstreamError.self) { _ = try await client.get("/debug/pprof/cmdline") }
        }
    }

    @Test("an upstream that never completes the handshake: connectFailed once the handshake timeout passes")
    func handshakeTimeout() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let port = try #require(silent.localAddress?.port)
        let client = try Self.client(port: port, caFile: nil, clientCertificate: nil, handshakeTimeout: .milliseconds(300))
        let reason = await Self.connectFailure { _ = try await client.get("/debug/pprof/cmdline") }
        #expect(reason?.contains("no TLS handshake within") == true, "\(reason ?? "")")
    }
}
