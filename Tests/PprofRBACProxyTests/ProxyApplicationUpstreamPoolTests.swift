import Logging
import NIOPosix
import Testing

@testable import PprofRBACProxy

@Suite("ProxyApplication.makeUpstreamPool: the transport follows the upstream flags")
struct ProxyApplicationUpstreamPoolTests {
    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func pool(_ upstream: String, _ configure: (inout ProxyConfiguration) -> Void = { _ in }) throws -> UpstreamConnectionPool {
        var configuration = ProxyConfiguration(listenAddress: nil, upstream: try UpstreamTarget(parsing: upstream))
        configure(&configuration)
        return try ProxyApplication.makeUpstreamPool(
            configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger
        )
    }

    @Test("http:// is cleartext HTTP/1.1")
    func cleartext() throws {
        guard case .http1(tls: nil) = try pool("http://127.0.0.1:8081/").configuration.transport else {
            Issue.record("expected cleartext HTTP/1.1")
            return
        }
    }

    @Test("https:// is HTTP/1.1 over verified TLS, with the client certificate when given")
    func https() throws {
        let files = try UpstreamTLSTests.Files()
        defer { files.directory.remove() }
        let transport = try pool("https://127.0.0.1:8443/") {
            $0.upstreamClientCertificateFile = files.clientCertificateFile
            $0.upstreamClientKeyFile = files.clientKeyFile
        }.configuration.transport
        guard case .http1(tls: let tls?) = transport else {
            Issue.record("expected TLS")
            return
        }
        #expect(tls.configuration.trustRoots == .default)
        #expect(tls.configuration.certificateChain.count == 1)
    }

    @Test("--upstream-force-h2c is HTTP/2 with prior knowledge, the TLS files ignored")
    func h2c() throws {
        let files = try UpstreamTLSTests.Files()
        defer { files.directory.remove() }
        let transport = try pool("http://127.0.0.1:8081/") {
            $0.upstreamForceH2C = true
            $0.upstreamCAFile = files.caFile
        }.configuration.transport
        guard case .h2c = transport else {
            Issue.record("expected h2c")
            return
        }
    }

    @Test("--upstream-force-h2c with an https:// upstream is refused rather than sent in cleartext")
    func h2cWithHTTPS() throws {
        var configuration = ProxyConfiguration(listenAddress: nil, upstream: try UpstreamTarget(parsing: "https://127.0.0.1:8443/"))
        configuration.insecureListenAddress = try ListenAddress(parsing: "127.0.0.1:0", flag: "--insecure-listen-address")
        configuration.upstreamForceH2C = true
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    @Test("half a client certificate is refused whatever the transport (by validate, which run calls first)")
    func halfAPair() throws {
        func configuration(_ upstream: String, _ configure: (inout ProxyConfiguration) -> Void) throws -> ProxyConfiguration {
            var configuration = ProxyConfiguration(listenAddress: nil, upstream: try UpstreamTarget(parsing: upstream))
            configuration.insecureListenAddress = try ListenAddress(parsing: "127.0.0.1:0", flag: "--insecure-listen-address")
            configure(&configuration)
            return configuration
        }
        for upstream in ["http://127.0.0.1:8081/", "https://127.0.0.1:8443/"] {
            let halfAPair = try configuration(upstream) { $0.upstreamClientCertificateFile = "client.crt" }
            #expect(throws: ConfigurationError.self, "\(upstream)") { try halfAPair.validate() }
        }
        let h2c = try configuration("http://127.0.0.1:8081/") {
            $0.upstreamForceH2C = true
            $0.upstreamClientKeyFile = "client.key"
        }
        #expect(throws: ConfigurationError.self) { try h2c.validate() }
    }
}
