import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import X509

/// How a listener secures its connections.
enum ListenerSecurity: Sendable {
    /// TLS with the context `current` returns at each accept (so reloaded certificates serve new
    /// connections); its ALPN protocols decide between HTTP/2 and HTTP/1.1. Where it
    /// `collectsClientCertificates`, what the client presents is kept for the authenticator.
    case tls(current: @Sendable () -> (context: NIOSSLContext, collectsClientCertificates: Bool))
    /// Plain text: HTTP/1.1, or h2c with prior knowledge where the pipeline speaks HTTP/2.
    case cleartext
}

/// Opens every listening socket the proxy has, each with the same protections, because they are
/// built here and nowhere else: the listen backlog, `--max-connections` (accepting pauses at the
/// limit), `--read-header-timeout` from accept, bounded client buffers, then TLS (handshake
/// failures counted under the listener's name) or plain text, and the HTTP/1.1 or HTTP/2 pipeline
/// of `HTTPConnectionPipeline` with its head limits and HTTP/2 abuse limits.
struct Listener: Sendable {
    /// What every connection of every listener gets.
    struct Protections: Sendable {
        /// `--read-header-timeout`; nil: no limit.
        var readHeaderTimeout: Duration?
        /// `--max-connections`, per listener; nil: no limit.
        var maxConnections: Int?
        /// Where failed TLS handshakes are counted.
        var metrics: ProxyMetrics
    }

    /// The listener's name in logs and in the `listener` label of the TLS handshake metric:
    /// `proxy`, `endpoints` or `metrics`.
    let name: String
    let protections: Protections
    let security: ListenerSecurity
    let http: HTTPConnectionPipeline
    /// Where each accepted connection is registered, for shutdown.
    let connections: ConnectionRegistry

    /// Binds `address` and serves it until the returned channel is closed.
    func bind(
        _ address: ListenAddress, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) async throws -> (channel: any Channel, address: ListenAddress) {
        let maxConnections = protections.maxConnections
        let readHeaderTimeout = protections.readHeaderTimeout.map(TimeAmount.init)
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
            .childChannelInitializer { [self] channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    if let readHeaderTimeout {
                        try channel.pipeline.syncOperations.addHandler(ReadHeaderTimeoutHandler(timeout: readHeaderTimeout))
                    }
                }.flatMap {
                    switch security {
                    case .tls(let current):
                        configureSecure(channel, current())
                    case .cleartext:
                        configureCleartext(channel)
                    }
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
        return (listener, ListenAddress(host: address.host, port: listener.localAddress?.port ?? address.port))
    }

    /// TLS, then HTTP/2 or HTTP/1.1 as ALPN decides (HTTP/1.1 when the context offers nothing else).
    private func configureSecure(
        _ channel: any Channel, _ tls: (context: NIOSSLContext, collectsClientCertificates: Bool)
    ) -> EventLoopFuture<Void> {
        let (context, collectsClientCertificates) = tls
        let presented = NIOLockedValueBox<[NIOSSLCertificate]>([])
        let sslHandler =
            collectsClientCertificates
            ? NIOSSLServerHandler(context: context) { chain, promise in
                presented.withLockedValue { $0 = chain }
                promise.succeed(.certificateVerified)
            }
            : NIOSSLServerHandler(context: context)
        @Sendable func clientCertificates() -> [Certificate] {
            presented.withLockedValue { $0 }.compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        }
        let (http, connections) = (self.http, self.connections)
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(sslHandler)
            try channel.pipeline.syncOperations.addHandler(TLSHandshakeFailureCounter(listener: name, metrics: protections.metrics))
        }.flatMap {
            channel.configureHTTP2SecureUpgrade(
                h2ChannelConfigurator: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try http.configureHTTP2(on: channel, clientCertificates: clientCertificates())
                        connections.markServing(channel)
                    }
                },
                http1ChannelConfigurator: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSRecordPacker())
                        try http.configureHTTP1(on: channel, clientCertificates: clientCertificates())
                        connections.markServing(channel)
                    }
                }
            )
        }
    }

    /// Plain text: HTTP/1.1, or h2c with prior knowledge unless the pipeline does not speak HTTP/2.
    private func configureCleartext(_ channel: any Channel) -> EventLoopFuture<Void> {
        let (http, connections) = (self.http, self.connections)
        return channel.eventLoop.makeCompletedFuture {
            guard http.speaksHTTP2 else {
                try http.configureHTTP1(on: channel, clientCertificates: [])
                connections.markServing(channel)
                return
            }
            let detector = CleartextProtocolDetector(
                configureHTTP1: { context in
                    try http.configureHTTP1(on: channel, clientCertificates: [], position: .after(context.handler))
                    connections.markServing(channel)
                },
                configureHTTP2: { context in
                    try http.configureHTTP2(on: channel, clientCertificates: [], position: .after(context.handler))
                    connections.markServing(channel)
                }
            )
            try channel.pipeline.syncOperations.addHandler(detector)
        }
    }
}
