import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import ServiceLifecycle
import X509

/// The listeners: TLS with ALPN h2/http/1.1 (and, deprecated, plain HTTP/1.1 + h2c). Runs until a
/// graceful shutdown, then stops accepting and lets in-flight requests finish for up to the grace
/// period.
final class ProxyServer: Service {
    /// Where to listen and how long to drain.
    struct Configuration: Sendable {
        var secureAddress: ListenAddress?
        var insecureAddress: ListenAddress?
        var shutdownGracePeriod: Duration
        /// `--read-header-timeout`; nil: no limit.
        var readHeaderTimeout: Duration?
        /// `--max-connections`, per listener; nil: no limit.
        var maxConnections: Int?
    }

    private let configuration: Configuration
    private let tls: ServingTLSReloader?
    private let pipeline: RequestPipeline
    private let upstreamPool: UpstreamConnectionPool
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let connections = ConnectionRegistry(whenEmpty: { FreeHeapPages.release() })

    init(
        configuration: Configuration, tls: ServingTLSReloader?, pipeline: RequestPipeline,
        upstreamPool: UpstreamConnectionPool, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        self.configuration = configuration
        self.tls = tls
        self.pipeline = pipeline
        self.upstreamPool = upstreamPool
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    func run() async throws {
        var listeners: [any Channel] = []
        if let address = configuration.secureAddress, let tls {
            listeners.append(try await bind(address) { [self] channel in configureSecure(channel, tls: tls.current) })
        }
        if let address = configuration.insecureAddress {
            logger.warning("--insecure-listen-address is deprecated: pprof data is served without TLS on \(address)")
            listeners.append(try await bind(address) { [self] channel in configureCleartext(channel) })
        }
        let released = StartupPages.release()
        logger.debug("released the startup pages", metadata: ["resident-kib": "\(released / 1024)"])

        do {
            try await gracefulShutdown()
            logger.info("shutting down: no new connections; waiting for in-flight requests",
                        metadata: ["open-connections": "\(connections.count)", "grace-period": "\(configuration.shutdownGracePeriod)"])
        } catch {
            logger.info("stopping at once")
        }
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

    private func bind(
        _ address: ListenAddress, initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws -> any Channel {
        let maxConnections = configuration.maxConnections
        let readHeaderTimeout = configuration.readHeaderTimeout.map(TimeAmount.init)
        let logger = self.logger
        let listener = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // One accept per read, so that --max-connections is never overshot.
            .serverChannelOption(.maxMessagesPerRead, value: UInt(maxConnections == nil ? 4 : 1))
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let maxConnections {
                        try channel.pipeline.syncOperations.addHandler(AcceptLimit(maximum: maxConnections, logger: logger))
                    }
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: ClientConnectionBuffers.waterMark)
            .childChannelOption(.recvAllocator, value: ClientConnectionBuffers.readAllocator)
            .childChannelInitializer { [connections] channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    if let readHeaderTimeout {
                        try channel.pipeline.syncOperations.addHandler(ReadHeaderTimeoutHandler(timeout: readHeaderTimeout))
                    }
                }.flatMap { initializer(channel) }
            }
            .bind(host: address.host, port: address.port)
            .get()
        let bound = ListenAddress(host: address.host, port: listener.localAddress?.port ?? address.port)
        logger.info("listening on \(bound)")
        return listener
    }

    /// TLS, then HTTP/2 or HTTP/1.1 as ALPN decides. With a client CA, the certificates the client
    /// presents are kept for the authenticator, which verifies them.
    private func configureSecure(_ channel: any Channel, tls: ServingTLS) -> EventLoopFuture<Void> {
        let presented = NIOLockedValueBox<[NIOSSLCertificate]>([])
        let sslHandler =
            tls.clientCertificateAuthority.isEmpty
            ? NIOSSLServerHandler(context: tls.proxy)
            : NIOSSLServerHandler(context: tls.proxy) { chain, promise in
                presented.withLockedValue { $0 = chain }
                promise.succeed(.certificateVerified)
            }
        let pipeline = self.pipeline
        let connections = self.connections
        @Sendable func clientCertificates() -> [Certificate] {
            presented.withLockedValue { $0 }.compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(sslHandler)
            try channel.pipeline.syncOperations.addHandler(TLSHandshakeFailureCounter(listener: "proxy"))
        }.flatMap {
            channel.configureHTTP2SecureUpgrade(
                h2ChannelConfigurator: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try pipeline.configureHTTP2(on: channel, clientCertificates: clientCertificates())
                        connections.markServing(channel)
                    }
                },
                http1ChannelConfigurator: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try pipeline.configureHTTP1(on: channel, clientCertificates: clientCertificates())
                        connections.markServing(channel)
                    }
                }
            )
        }
    }

    /// Plain text: HTTP/1.1, or h2c with prior knowledge unless HTTP/2 is disabled.
    private func configureCleartext(_ channel: any Channel) -> EventLoopFuture<Void> {
        let pipeline = self.pipeline
        let connections = self.connections
        return channel.eventLoop.makeCompletedFuture {
            guard !pipeline.settings.http2Disabled else {
                try pipeline.configureHTTP1(on: channel, clientCertificates: [])
                connections.markServing(channel)
                return
            }
            let detector = CleartextProtocolDetector(
                configureHTTP1: { context in
                    try pipeline.configureHTTP1(on: channel, clientCertificates: [], position: .after(context.handler))
                    connections.markServing(channel)
                },
                configureHTTP2: { context in
                    try pipeline.configureHTTP2(on: channel, clientCertificates: [], position: .after(context.handler))
                    connections.markServing(channel)
                }
            )
            try channel.pipeline.syncOperations.addHandler(detector)
        }
    }
}
