import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS
import Testing

@testable import PprofRBACProxy

@Suite("TLSHandshakeFailureCounter: failed handshakes, by listener and reason")
struct TLSHandshakeFailureCounterTests {
    let metrics = ProxyMetrics()

    func channel(listener: String) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            TLSHandshakeFailureCounter(listener: listener, metrics: metrics)
        )
        return channel
    }

    func failures(_ labels: String) -> Double {
        MetricsExposition(metrics.exposition()).count("pprof_rbac_proxy_tls_handshake_failures_total{\(labels)}")
    }

    @Test("a failed handshake counts once; a peer gone mid-handshake is eof")
    func failedHandshakes() throws {
        let rejected = try channel(listener: "proxy")
        rejected.pipeline.fireErrorCaught(NIOSSLError.handshakeFailed(.sslError([])))
        rejected.pipeline.fireErrorCaught(NIOSSLError.uncleanShutdown)
        let vanished = try channel(listener: "metrics")
        vanished.pipeline.fireErrorCaught(NIOSSLError.handshakeFailed(.sslError([.eofDuringHandshake])))
        #expect(failures(#"listener="proxy",reason="error""#) == 1)
        #expect(failures(#"listener="metrics",reason="eof""#) == 1)
        #expect(failures(#"listener="proxy",reason="eof""#) == 0)
    }

    @Test("after a completed handshake it leaves the pipeline and counts nothing")
    func completedHandshake() throws {
        let channel = try channel(listener: "proxy")
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: "h2"))
        #expect(throws: ChannelPipelineError.notFound) {
            try channel.pipeline.syncOperations.handler(type: TLSHandshakeFailureCounter.self)
        }
        channel.pipeline.fireErrorCaught(NIOSSLError.uncleanShutdown)
        #expect(failures(#"listener="proxy",reason="error""#) == 0)
    }
}
