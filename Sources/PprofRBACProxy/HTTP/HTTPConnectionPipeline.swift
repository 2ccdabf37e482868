import NIOCore
import NIOHTTP1
import NIOHTTP2
import X509

/// Builds the HTTP side of a client connection once its protocol is known, the same for every
/// listener: HTTP/1.1 with the head limits (`HTTPRequestLimits`), parse errors answered and
/// `Connection: close` honoured; or HTTP/2 with the same limits, NIOHTTP2's abuse limits and the
/// corrections of `HTTP2ServerHandlers`, one pipeline per stream. What serves a request is the
/// listener's own: `requestHandlers` are added to each HTTP/1.1 connection and HTTP/2 stream.
struct HTTPConnectionPipeline: Sendable {
    /// The handlers that serve requests, after the HTTP codec; told whether they serve an HTTP/2
    /// stream and which certificates the client presented.
    typealias RequestHandlers = @Sendable (_ isHTTP2: Bool, _ clientCertificates: [Certificate]) -> [any ChannelHandler]

    /// `--http2-disable`, `--http2-max-concurrent-streams`, `--http2-max-size`.
    let settings: ServingTLSSettings
    /// Idle HTTP/2 connections are closed after this long (kube-rbac-proxy: 90 s).
    let http2IdleTimeout: Duration
    let requestHandlers: RequestHandlers

    init(settings: ServingTLSSettings, http2IdleTimeout: Duration = .seconds(90), requestHandlers: @escaping RequestHandlers) {
        self.settings = settings
        self.http2IdleTimeout = http2IdleTimeout
        self.requestHandlers = requestHandlers
    }

    /// Whether plain-text connections may speak h2c (TLS connections follow ALPN).
    var speaksHTTP2: Bool { !settings.http2Disabled }

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
        try pipeline.addHandler(HTTP1ConnectionHandler())
        try pipeline.addHandlers(requestHandlers(false, clientCertificates))
    }

    /// Adds HTTP/2 handlers at the end of the pipeline (or after `position`): those of
    /// `HTTP2ServerHandlers`, and the connection manager that sends GOAWAY on shutdown and closes
    /// idle connections.
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
        let requestHandlers = self.requestHandlers
        let connectionHandlers = HTTP2ServerHandlers.make(
            on: channel, connection: connection, stream: stream, next: connectionManager.http2StreamDelegate
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let streamPipeline = streamChannel.pipeline.syncOperations
                try streamPipeline.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try streamPipeline.addHandlers(requestHandlers(true, clientCertificates))
            }
        }
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandlers(connectionHandlers, position: position)
        let prefaceSignal = HTTP2PrefaceSignal()
        try pipeline.addHandler(prefaceSignal, position: .after(connectionHandlers[connectionHandlers.count - 1]))
        try pipeline.addHandler(connectionManager, position: .after(prefaceSignal))
    }
}
