import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import X509

/// Builds the HTTP side of a client connection once its protocol is known: HTTP/1.1, or HTTP/2
/// with one pipeline per stream; every request gets access log → gate → forwarder.
struct RequestPipeline: Sendable {
    let gate: Gate
    /// One CPU profile and one trace at a time, and the per-user capture limit.
    let captureScheduler: CaptureScheduler
    let upstream: any UpstreamConnector
    let upstreamTarget: UpstreamTarget
    let identityHeaders: IdentityHeaders
    let settings: ServingTLSSettings
    /// Idle HTTP/2 connections are closed after this long (kube-rbac-proxy: 90 s).
    let http2IdleTimeout: Duration
    /// Told about every finished exchange (access log, audit log, metrics).
    let observers: [any ExchangeObserver]
    let logger: Logger

    /// Adds HTTP/1.1 handlers at the end of the pipeline (or after `position`).
    func configureHTTP1(
        on channel: any Channel, clientCertificates: [Certificate],
        position: ChannelPipeline.SynchronousOperations.Position = .last
    ) throws {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.configureHTTPServerPipeline(
            position: position, withPipeliningAssistance: true, withErrorHandling: false,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: HTTPRequestLimits.http1Decoder
        )
        try pipeline.addHandlers([HTTP1ParseErrorResponder(), HTTP1RequestProgressSignal(), HTTP1ConnectionClose()])
        try pipeline.addHandlers(requestHandlers(isHTTP2: false, clientCertificates: clientCertificates))
    }

    /// Adds HTTP/2 handlers at the end of the pipeline (or after `position`): the corrections that
    /// make NIOHTTP2 apply the proxy's limits at once and answer errors as RFC 9113 says, NIOHTTP2
    /// itself, and the connection manager that sends GOAWAY on shutdown and closes idle connections.
    func configureHTTP2(
        on channel: any Channel, clientCertificates: [Certificate],
        position: ChannelPipeline.SynchronousOperations.Position = .last
    ) throws {
        let connectionManager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: TimeAmount(http2IdleTimeout), maxAge: nil, maxGraceTime: nil, keepalive: nil)
        )
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        let ownSettings: [HTTP2Setting] = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: settings.http2MaxConcurrentStreams),
            HTTP2Setting(parameter: .maxFrameSize, value: min(max(settings.http2MaxSize, 1 << 14), (1 << 24) - 1)),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HTTPRequestLimits.http2HeaderListSize),
        ]
        connection.initialSettings =
            nioDefaultSettings.filter { setting in !ownSettings.contains { $0.parameter == setting.parameter } } + ownSettings
        connection.maximumSequentialContinuationFrames = HTTPRequestLimits.http2MaximumContinuationFrames
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = settings.http2MaxSize
        let handlers = self
        let connectionHandlers = HTTP2ServerHandlers.make(
            on: channel, connection: connection, stream: stream, next: connectionManager.http2StreamDelegate
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let streamPipeline = streamChannel.pipeline.syncOperations
                try streamPipeline.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try streamPipeline.addHandlers(handlers.requestHandlers(isHTTP2: true, clientCertificates: clientCertificates))
            }
        }
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandlers(connectionHandlers, position: position)
        let prefaceSignal = HTTP2PrefaceSignal()
        try pipeline.addHandler(prefaceSignal, position: .after(connectionHandlers[connectionHandlers.count - 1]))
        try pipeline.addHandler(connectionManager, position: .after(prefaceSignal))
    }

    private func requestHandlers(isHTTP2: Bool, clientCertificates: [Certificate]) -> [any ChannelHandler] {
        [
            ExchangeRecorder(observers: observers),
            GateHandler(gate: gate, isHTTP2: isHTTP2, clientCertificates: clientCertificates),
            CaptureHandler(
                scheduler: captureScheduler, upstream: upstream, target: upstreamTarget,
                identityHeaders: identityHeaders, isHTTP2: isHTTP2, logger: logger
            ),
            ForwardingHandler(upstream: upstream, target: upstreamTarget, identityHeaders: identityHeaders, isHTTP2: isHTTP2),
        ]
    }
}
