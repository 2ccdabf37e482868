import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A listener for the proxy's own endpoints over TLS (the serving certificate, HTTP/1.1 only): the
/// `--proxy-endpoints-port` with `/healthz`, `/readyz` and perhaps `/metrics`, or the
/// `--metrics-bind-address` with `/metrics` alone. Its gate decides which paths exist there and
/// which need credentials.
final class ProxyEndpointsServer: Service {
    /// Which listener this is, for its log line and its `listener` metric label: `endpoints` or `metrics`.
    private let name: String
    private let address: ListenAddress
    private let tls: ServingTLSReloader?
    private let gate: Gate
    private let checks: [any ReadinessCheck]
    private let metrics: ProxyMetrics?
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    init(
        name: String, address: ListenAddress, tls: ServingTLSReloader?, gate: Gate, checks: [any ReadinessCheck],
        metrics: ProxyMetrics?, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        self.name = name
        self.address = address
        self.tls = tls
        self.gate = gate
        self.checks = checks
        self.metrics = metrics
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    func run() async throws {
        let name = self.name
        let tls = self.tls
        let gate = self.gate
        let checks = self.checks
        let metrics = self.metrics
        let listener = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls.current.endpoints))
                        try pipeline.addHandler(TLSHandshakeFailureCounter(listener: name))
                    }
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try pipeline.addHandler(GateHandler(gate: gate, isHTTP2: false))
                    try pipeline.addHandler(ProxyEndpointsHandler(checks: checks, metrics: metrics))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
        let paths = gate.pathPolicy.allowed.map(\.description).joined(separator: ", ")
        let bound = ListenAddress(host: address.host, port: listener.localAddress?.port ?? address.port)
        logger.info("\(name) listener serving \(paths) on \(bound)")
        try? await gracefulShutdown()
        try? await listener.close()
    }
}
