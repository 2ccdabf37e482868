import NIOCore
import NIOHTTP1
import NIOPosix

/// The keep-alive HTTP/1.1 connections of one event loop, over TCP or TLS: idle ones are handed out
/// again, new ones are handed out only once connected (and, with TLS, verified).
final class HTTP1LoopPool: UpstreamLoopConnector {
    private let configuration: UpstreamConnectionPool.Configuration
    private let tls: UpstreamTLS?
    private let eventLoop: any EventLoop
    private var idle: [(connection: UpstreamConnection, expiry: Scheduled<Void>)] = []

    init(configuration: UpstreamConnectionPool.Configuration, tls: UpstreamTLS?, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.tls = tls
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
        let tls = self.tls
        let handshake = tls.map { _ in eventLoop.makePromise(of: Void.self) }
        let handshakeTimeout = configuration.tlsHandshakeTimeout
        ClientBootstrap.upstream(on: eventLoop, connectTimeout: configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls, let handshake {
                        try pipeline.addHandler(tls.makeHandler())
                        try pipeline.addHandler(UpstreamTLSHandshakeHandler(
                            handshake: handshake, timeout: handshakeTimeout, upstreamName: target.host
                        ))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(UpstreamConnection())
                }
            }
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard let handshake else {
                        self.handOut(channel, completion)
                        return
                    }
                    handshake.futureResult.assumeIsolated().whenComplete { handshakeResult in
                        switch handshakeResult {
                        case .success:
                            self.handOut(channel, completion)
                        case .failure(let error):
                            channel.close(promise: nil)
                            completion(.failure(.connectFailed("\(error)")))
                        }
                    }
                case .failure(let error):
                    handshake?.fail(error)
                    completion(.failure(.connectFailed("\(error)")))
                }
            }
    }

    private func handOut(_ channel: any Channel, _ completion: (Result<any UpstreamExchange, UpstreamError>) -> Void) {
        do {
            let connection = try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
            connection.onReusable = { [weak self] in self?.release($0) }
            connection.onClose = { [weak self] in self?.forget($0) }
            completion(.success(connection))
        } catch {
            channel.close(promise: nil)
            completion(.failure(.connectFailed("\(error)")))
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
