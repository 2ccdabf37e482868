import NIOCore

/// The proxy's connections to the upstream, kept per event loop so a request and its upstream
/// connection always share one thread, over the transport the configuration names.
final class UpstreamConnectionPool: UpstreamConnector {
    /// How the upstream is spoken to.
    enum Transport: Sendable {
        /// Keep-alive HTTP/1.1 connections, in cleartext or over TLS.
        case http1(tls: UpstreamTLS?)
        /// HTTP/2 in cleartext with prior knowledge (`--upstream-force-h2c`), a stream per exchange.
        case h2c
    }

    /// How a pool behaves.
    struct Configuration: Sendable {
        var target: UpstreamTarget
        var transport: Transport = .http1(tls: nil)
        /// Idle HTTP/1.1 connections kept per event loop.
        var maximumIdleConnectionsPerLoop = 16
        /// Idle connections are closed after this long; shorter than the 90 s after which
        /// controller-runtime's pprof server closes them, so a request rarely meets a stale one.
        var idleTimeout: TimeAmount = .seconds(60)
        var connectTimeout: TimeAmount = .seconds(10)
        /// Go's `http.Transport` default.
        var tlsHandshakeTimeout: TimeAmount = .seconds(10)
    }

    let configuration: Configuration
    private let loopConnectors: [ObjectIdentifier: NIOLoopBoundBox<any UpstreamLoopConnector>]

    init(configuration: Configuration, eventLoopGroup: any EventLoopGroup) {
        self.configuration = configuration
        var loopConnectors: [ObjectIdentifier: NIOLoopBoundBox<any UpstreamLoopConnector>] = [:]
        for eventLoop in eventLoopGroup.makeIterator() {
            loopConnectors[ObjectIdentifier(eventLoop)] = .makeBoxSendingValue(
                Self.makeLoopConnector(configuration, eventLoop: eventLoop), eventLoop: eventLoop
            )
        }
        self.loopConnectors = loopConnectors
    }

    private static func makeLoopConnector(
        _ configuration: Configuration, eventLoop: any EventLoop
    ) -> sending any UpstreamLoopConnector {
        switch configuration.transport {
        case .http1(let tls): HTTP1LoopPool(configuration: configuration, tls: tls, eventLoop: eventLoop)
        case .h2c: H2CLoopConnector(configuration: configuration, eventLoop: eventLoop)
        }
    }

    func lease(
        on eventLoop: any EventLoop, fresh: Bool,
        _ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void
    ) {
        guard let connector = loopConnectors[ObjectIdentifier(eventLoop)] else {
            completion(.failure(.connectFailed("no connection pool for this event loop")))
            return
        }
        connector.value.lease(fresh: fresh, completion)
    }

    /// Closes every idle connection (at shutdown).
    func closeIdleConnections() {
        for connector in loopConnectors.values {
            connector.eventLoop.execute { connector.value.closeIdleConnections() }
        }
    }
}
