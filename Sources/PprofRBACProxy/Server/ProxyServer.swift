import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The TLS listener: negotiates h2 or http/1.1 and gives every request the pipeline
/// access log → gate → forwarder. Runs until a graceful shutdown, then stops accepting and lets
/// in-flight requests finish for up to the grace period.
public final class ProxyServer: Service {
    /// How the listener behaves.
    public struct Configuration: Sendable {
        public var listenAddress: ListenAddress
        public var upstream: UpstreamTarget
        public var shutdownGracePeriod: Duration
        /// Idle HTTP/2 connections are closed after this long (kube-rbac-proxy: 90 s).
        public var http2IdleTimeout: Duration = .seconds(90)

        public init(listenAddress: ListenAddress, upstream: UpstreamTarget, shutdownGracePeriod: Duration) {
            self.listenAddress = listenAddress
            self.upstream = upstream
            self.shutdownGracePeriod = shutdownGracePeriod
        }
    }

    private let configuration: Configuration
    private let sslContext: NIOSSLContext
    private let gate: Gate
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let connections = ConnectionRegistry()
    private let upstreamPool: UpstreamConnectionPool

    init(
        configuration: Configuration, sslContext: NIOSSLContext, gate: Gate, upstreamPool: UpstreamConnectionPool,
        eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        self.configuration = configuration
        self.sslContext = sslContext
        self.gate = gate
        self.upstreamPool = upstreamPool
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    public func run() async throws {
        let serverChannel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                }.flatMap {
                    channel.configureHTTP2SecureUpgrade(
                        h2ChannelConfigurator: { [self] in configureHTTP2($0) },
                        http1ChannelConfigurator: { [self] in configureHTTP1($0) }
                    )
                }
            }
            .bind(host: configuration.listenAddress.host, port: configuration.listenAddress.port)
            .get()
        let bound = ListenAddress(
            host: configuration.listenAddress.host, port: serverChannel.localAddress?.port ?? configuration.listenAddress.port
        )
        logger.info("listening on \(bound)")

        do {
            try await gracefulShutdown()
            logger.info("shutting down: no new connections; waiting for in-flight requests",
                        metadata: ["open-connections": "\(connections.count)", "grace-period": "\(configuration.shutdownGracePeriod)"])
        } catch {
            logger.info("stopping at once")
        }
        try? await serverChannel.close()
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

    private func configureHTTP1(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture { [self] in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
            try pipeline.addHandlers(requestHandlers(isHTTP2: false))
            connections.markServing(channel)
        }
    }

    private func configureHTTP2(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture { [self] in
            let connectionManager = NIOHTTP2ServerConnectionManagementHandler(
                eventLoop: channel.eventLoop,
                configuration: .init(
                    maxIdleTime: TimeAmount(configuration.http2IdleTimeout), maxAge: nil, maxGraceTime: nil, keepalive: nil
                )
            )
            _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .server,
                connectionConfiguration: NIOHTTP2Handler.ConnectionConfiguration(),
                streamConfiguration: NIOHTTP2Handler.StreamConfiguration(),
                streamDelegate: connectionManager.http2StreamDelegate
            ) { [self] stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                    try stream.pipeline.syncOperations.addHandlers(requestHandlers(isHTTP2: true))
                }
            }
            try channel.pipeline.syncOperations.addHandler(connectionManager)
            connections.markServing(channel)
        }
    }

    private func requestHandlers(isHTTP2: Bool) -> [any ChannelHandler] {
        [
            AccessLogHandler(logger: logger),
            GateHandler(gate: gate, isHTTP2: isHTTP2),
            ForwardingHandler(upstream: upstreamPool, target: configuration.upstream, isHTTP2: isHTTP2),
        ]
    }
}
