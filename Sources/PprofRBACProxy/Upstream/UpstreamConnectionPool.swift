import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to the upstream, kept per event loop so a request and its upstream
/// connection always share one thread.
final class UpstreamConnectionPool: UpstreamConnector {
    /// How a pool behaves.
    struct Configuration: Sendable {
        var target: UpstreamTarget
        /// Idle connections kept per event loop.
        var maximumIdleConnectionsPerLoop = 16
        /// Idle connections are closed after this long; shorter than the 90 s after which
        /// controller-runtime's pprof server closes them, so a request rarely meets a stale one.
        var idleTimeout: TimeAmount = .seconds(60)
        var connectTimeout: TimeAmount = .seconds(10)
    }

    private let loopPools: [ObjectIdentifier: NIOLoopBoundBox<LoopPool>]

    init(configuration: Configuration, eventLoopGroup: any EventLoopGroup) {
        var loopPools: [ObjectIdentifier: NIOLoopBoundBox<LoopPool>] = [:]
        for eventLoop in eventLoopGroup.makeIterator() {
            loopPools[ObjectIdentifier(eventLoop)] = .makeBoxSendingValue(
                LoopPool(configuration: configuration, eventLoop: eventLoop), eventLoop: eventLoop
            )
        }
        self.loopPools = loopPools
    }

    func lease(
        on eventLoop: any EventLoop, fresh: Bool,
        _ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void
    ) {
        guard let pool = loopPools[ObjectIdentifier(eventLoop)] else {
            completion(.failure(.connectFailed("no connection pool for this event loop")))
            return
        }
        pool.value.lease(fresh: fresh, completion)
    }

    /// Closes every idle connection (at shutdown).
    func closeIdleConnections() {
        for pool in loopPools.values {
            pool.eventLoop.execute { pool.value.closeIdleConnections() }
        }
    }

    /// The idle connections of one event loop.
    private final class LoopPool {
        private let configuration: Configuration
        private let eventLoop: any EventLoop
        private var idle: [(connection: UpstreamConnection, expiry: Scheduled<Void>)] = []

        init(configuration: Configuration, eventLoop: any EventLoop) {
            self.configuration = configuration
            self.eventLoop = eventLoop
        }

        func lease(fresh: Bool, _ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void) {
            while !fresh, let (connection, expiry) = idle.popLast() {
                expiry.cancel()
                if connection.isActive {
                    completion(.success(connection))
                    return
                }
            }
            connect(completion)
        }

        func closeIdleConnections() {
            for (connection, expiry) in idle {
                expiry.cancel()
                connection.close()
            }
            idle.removeAll()
        }

        private func connect(_ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void) {
            let target = configuration.target
            ClientBootstrap(group: eventLoop)
                .connectTimeout(configuration.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(UpstreamConnection())
                    }
                }
                .connect(host: target.host, port: target.port)
                .assumeIsolated()
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        do {
                            let connection = try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
                            connection.onReusable = { [weak self] in self?.release($0) }
                            connection.onClose = { [weak self] in self?.forget($0) }
                            completion(.success(connection))
                        } catch {
                            channel.close(promise: nil)
                            completion(.failure(.connectFailed("\(error)")))
                        }
                    case .failure(let error):
                        completion(.failure(.connectFailed("\(error)")))
                    }
                }
        }

        private func release(_ connection: UpstreamConnection) {
            guard idle.count < configuration.maximumIdleConnectionsPerLoop else {
                connection.close()
                return
            }
            let expiry = eventLoop.assumeIsolated().scheduleTask(in: configuration.idleTimeout) {
                connection.close()
            }
            idle.append((connection, expiry))
        }

        private func forget(_ connection: UpstreamConnection) {
            if let index = idle.firstIndex(where: { $0.connection === connection }) {
                idle.remove(at: index).expiry.cancel()
            }
        }
    }
}
