import Logging
import NIOCore
import ServiceLifecycle

/// The proxy's listeners: TLS with ALPN h2/http/1.1 (and, deprecated, plain HTTP/1.1 + h2c). Runs
/// until a graceful shutdown, then stops accepting and lets in-flight requests finish for up to the
/// grace period.
final class ProxyServer: Service {
    /// Where to listen, how, and how long to drain.
    struct Configuration: Sendable {
        var secureAddress: ListenAddress?
        var insecureAddress: ListenAddress?
        var shutdownGracePeriod: Duration
        var protections: Listener.Protections
    }

    private let configuration: Configuration
    private let tls: ServingTLSReloader?
    private let http: HTTPConnectionPipeline
    private let upstreamPool: UpstreamConnectionPool
    private let readiness: ProxyReadiness
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    /// Its last connection closing gives memory back.
    private let connections: ConnectionRegistry

    init(
        configuration: Configuration, tls: ServingTLSReloader?, http: HTTPConnectionPipeline,
        upstreamPool: UpstreamConnectionPool, readiness: ProxyReadiness, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        self.configuration = configuration
        self.tls = tls
        self.http = http
        self.upstreamPool = upstreamPool
        self.readiness = readiness
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        let idleMemory = IdleMemoryRelease()
        connections = ConnectionRegistry(whenEmpty: { idleMemory.schedule() })
    }

    func run() async throws {
        var listeners: [any Channel] = []
        if let address = configuration.secureAddress, let tls {
            let security = ListenerSecurity.tls {
                let current = tls.current
                return (current.proxy, !current.clientCertificateAuthority.isEmpty)
            }
            listeners.append(try await bind(address, security: security))
        }
        if let address = configuration.insecureAddress {
            logger.warning("--insecure-listen-address is deprecated: pprof data is served without TLS on \(address)")
            listeners.append(try await bind(address, security: .cleartext))
        }
        readiness.setServing(true)
        let released = StartupPages.release()
        logger.debug("released the startup pages", metadata: ["resident-kib": "\(released / 1024)"])

        do {
            try await gracefulShutdown()
            logger.info("shutting down: no new connections; waiting for in-flight requests",
                        metadata: ["open-connections": "\(connections.count)", "grace-period": "\(configuration.shutdownGracePeriod)"])
        } catch {
            logger.info("stopping at once")
        }
        readiness.setServing(false)
        for listener in listeners {
            try? await listener.close()
        }
        connections.quiesce()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [connections] in await connections.waitUntilEmpty() }
            group.addTask { [configuration] in try? await Task.sleep(for: configuration.shutdownGracePeriod) }
            await group.next()
            group.cancelAll()
        }
        if connections.count > 0 {
            logger.warning("grace period over: closing remaining connections", metadata: ["open-connections": "\(connections.count)"])
        }
        connections.closeAll()
        upstreamPool.closeIdleConnections()
    }

    private func bind(_ address: ListenAddress, security: ListenerSecurity) async throws -> any Channel {
        let listener = Listener(
            name: "proxy", protections: configuration.protections, security: security, http: http, connections: connections
        )
        let (channel, bound) = try await listener.bind(address, eventLoopGroup: eventLoopGroup, logger: logger)
        logger.info("listening on \(bound)")
        return channel
    }
}
