import Logging
import NIOCore
import ServiceLifecycle

/// A listener for the proxy's own endpoints, over TLS with the serving certificate and HTTP/1.1
/// only: the `--proxy-endpoints-port` with `/healthz`, `/readyz` and perhaps `/metrics`, or the
/// `--metrics-bind-address` with `/metrics` alone. Its gate decides which paths exist there and
/// which need credentials; its connections have the proxy listener's protections (`Listener`).
final class ProxyEndpointsServer: Service {
    /// Which listener this is, for its log line and its `listener` metric label: `endpoints` or `metrics`.
    private let name: String
    private let address: ListenAddress
    private let tls: ServingTLSReloader?
    private let protections: Listener.Protections
    private let gate: Gate
    private let readiness: ProxyReadiness
    private let checks: [any DependencyCheck]
    private let metrics: ProxyMetrics?
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    init(
        name: String, address: ListenAddress, tls: ServingTLSReloader?, protections: Listener.Protections, gate: Gate,
        readiness: ProxyReadiness, checks: [any DependencyCheck], metrics: ProxyMetrics?, eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.name = name
        self.address = address
        self.tls = tls
        self.protections = protections
        self.gate = gate
        self.readiness = readiness
        self.checks = checks
        self.metrics = metrics
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    func run() async throws {
        let (gate, readiness, checks, metrics) = (self.gate, self.readiness, self.checks, self.metrics)
        var http1Only = ServingTLSSettings()
        http1Only.http2Disabled = true
        let http = HTTPConnectionPipeline(settings: http1Only) { _, _ in
            [GateHandler(gate: gate, isHTTP2: false), ProxyEndpointsHandler(readiness: readiness, checks: checks, metrics: metrics)]
        }
        let security: ListenerSecurity =
            if let tls {
                .tls { (tls.current.endpoints, false) }
            } else {
                .cleartext
            }
        let connections = ConnectionRegistry()
        let listener = Listener(name: name, protections: protections, security: security, http: http, connections: connections)
        let (channel, bound) = try await listener.bind(address, eventLoopGroup: eventLoopGroup, logger: logger)
        let paths = gate.pathPolicy.allowed.map(\.description).joined(separator: ", ")
        logger.info("\(name) listener serving \(paths) on \(bound)")
        try? await gracefulShutdown()
        try? await channel.close()
        connections.closeAll()
    }
}
