import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The `--proxy-endpoints-port` listener: `/healthz` and `/readyz` over TLS (the serving
/// certificate, HTTP/1.1 only), on the host of the secure listen address.
final class ProxyEndpointsServer: Service {
    private let address: ListenAddress
    private let tls: ServingTLSReloader?
    private let checks: [any ReadinessCheck]
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    init(address: ListenAddress, tls: ServingTLSReloader?, checks: [any ReadinessCheck], eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.address = address
        self.tls = tls
        self.checks = checks
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    func run() async throws {
        let tls = self.tls
        let checks = self.checks
        let listener = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls.current.endpoints))
                    }
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try pipeline.addHandler(ProxyEndpointsHandler(checks: checks))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
        logger.info("proxy endpoints /healthz and /readyz served on \(ListenAddress(host: address.host, port: listener.localAddress?.port ?? address.port))")
        try? await gracefulShutdown()
        try? await listener.close()
    }
}
