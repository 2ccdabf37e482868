import NIOCore
import NIOHTTP2
import NIOPosix

/// The upstream connection of one event loop for `--upstream-force-h2c`: HTTP/2 in cleartext with
/// prior knowledge, every exchange a new stream on one shared connection. A connection that is
/// retired or closed is replaced on the next lease; leases made while connecting wait for it.
final class H2CLoopConnector: UpstreamLoopConnector {
    private let configuration: UpstreamConnectionPool.Configuration
    private let eventLoop: any EventLoop
    /// The connection new streams go on.
    private var current: H2CConnection?
    /// The leases waiting for the connection being made; nil while none is being made.
    private var waiting: [(Result<any UpstreamExchange, UpstreamError>) -> Void]?

    init(configuration: UpstreamConnectionPool.Configuration, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.eventLoop = eventLoop
    }

    func lease(fresh: Bool, _ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void) {
        if fresh {
            current?.retire()
            current = nil
        }
        if let current, current.acceptsStreams {
            current.openStream(completion)
            return
        }
        current = nil
        if waiting != nil {
            waiting?.append(completion)
            return
        }
        waiting = [completion]
        connect()
    }

    func closeIdleConnections() {
        current?.retire()
        current = nil
    }

    private func connect() {
        let target = configuration.target
        ClientBootstrap.upstream(on: eventLoop, connectTimeout: configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var connectionConfiguration = NIOHTTP2Handler.ConnectionConfiguration()
                    connectionConfiguration.initialSettings = nioDefaultSettings + [HTTP2Setting(parameter: .enablePush, value: 0)]
                    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: connectionConfiguration,
                        streamConfiguration: NIOHTTP2Handler.StreamConfiguration()
                    ) { unexpectedStream in
                        unexpectedStream.close()
                    }
                    try channel.pipeline.syncOperations.addHandler(HTTP2ConnectionMonitor())
                }
            }
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .whenComplete { result in
                let waiting = self.waiting ?? []
                self.waiting = nil
                switch result {
                case .success(let channel):
                    do {
                        let connection = try self.adopt(channel)
                        for lease in waiting {
                            connection.openStream(lease)
                        }
                    } catch {
                        channel.close(promise: nil)
                        for lease in waiting {
                            lease(.failure(.connectFailed("\(error)")))
                        }
                    }
                case .failure(let error):
                    for lease in waiting {
                        lease(.failure(.connectFailed("\(error)")))
                    }
                }
            }
    }

    /// Makes `channel` the connection new streams go on.
    private func adopt(_ channel: any Channel) throws -> H2CConnection {
        let pipeline = channel.pipeline.syncOperations
        let connection = H2CConnection(
            channel: channel, multiplexer: try pipeline.handler(type: NIOHTTP2Handler.self).syncMultiplexer(),
            idleTimeout: configuration.idleTimeout
        )
        try pipeline.handler(type: HTTP2ConnectionMonitor.self).onRetire = { [weak connection] in
            connection?.retire()
        }
        current = connection
        return connection
    }
}
