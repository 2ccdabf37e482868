import NIOCore
import NIOPosix

/// The upstream connections of one event loop, kept the way one transport keeps them (a keep-alive
/// pool of HTTP/1.1 connections, or streams on one HTTP/2 connection). Used on its loop only.
protocol UpstreamLoopConnector: AnyObject {
    /// Calls `completion` with a connection for one exchange: a fresh one if `fresh`, because the
    /// last one handed out turned out to be stale.
    func lease(fresh: Bool, _ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void)
    /// Closes what is idle now and lets the rest close when its exchanges end (at shutdown).
    func closeIdleConnections()
}

extension ClientBootstrap {
    /// A bootstrap for one upstream connection, whatever the transport: no Nagle delay, and reads
    /// sized by `UpstreamReads`.
    static func upstream(on eventLoop: any EventLoop, connectTimeout: TimeAmount) -> ClientBootstrap {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: UpstreamReads())
            .channelOption(.maxMessagesPerRead, value: UpstreamReads.perReadEvent)
    }
}
