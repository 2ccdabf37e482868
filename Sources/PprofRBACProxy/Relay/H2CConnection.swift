import NIOCore
import NIOHTTP2

/// One HTTP/2 connection to the upstream: each exchange gets a new stream on it. Once retired
/// (GOAWAY, an HTTP/2 error, or replaced) it takes no new streams and closes when its last stream
/// ends; a connection with no stream open closes after the idle timeout.
final class H2CConnection {
    private let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    private let idleTimeout: TimeAmount
    private var openStreams = 0
    private var streamsOpened = 0
    private var idleClose: Scheduled<Void>?
    private var isRetired = false

    init(channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, idleTimeout: TimeAmount) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.idleTimeout = idleTimeout
        scheduleIdleClose()
    }

    /// Whether a new stream may be opened on this connection.
    var acceptsStreams: Bool { !isRetired && channel.isActive }

    /// Opens a stream whose pipeline speaks HTTP/1-style parts, and hands out its `UpstreamConnection`.
    /// Closing that stream before its response ends resets it (RST_STREAM), which stops the upstream handler.
    func openStream(_ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void) {
        idleClose?.cancel()
        idleClose = nil
        openStreams += 1
        streamsOpened += 1
        let transportWasReused = streamsOpened > 1
        multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
                try stream.pipeline.syncOperations.addHandler(UpstreamConnection(transportWasReused: transportWasReused))
            }
        }
        .assumeIsolated()
        .whenComplete { result in
            switch result {
            case .success(let stream):
                stream.closeFuture.assumeIsolated().whenComplete { _ in self.streamClosed() }
                do {
                    completion(.success(try stream.pipeline.syncOperations.handler(type: UpstreamConnection.self)))
                } catch {
                    stream.close(promise: nil)
                    completion(.failure(.connectFailed("\(error)")))
                }
            case .failure(let error):
                self.streamClosed()
                completion(.failure(.connectFailed("cannot open an HTTP/2 stream: \(error)")))
            }
        }
    }

    /// Takes no new streams from now on, and closes once the open ones have ended.
    func retire() {
        isRetired = true
        if openStreams == 0 {
            close()
        }
    }

    private func streamClosed() {
        openStreams -= 1
        guard openStreams == 0 else { return }
        if isRetired {
            close()
        } else {
            scheduleIdleClose()
        }
    }

    private func scheduleIdleClose() {
        idleClose = channel.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
            self?.retire()
        }
    }

    private func close() {
        idleClose?.cancel()
        idleClose = nil
        channel.close(promise: nil)
    }
}
