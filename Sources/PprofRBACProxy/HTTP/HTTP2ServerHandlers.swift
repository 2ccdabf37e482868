import NIOCore
import NIOHTTP2

/// The byte side of an HTTP/2 server connection, in pipeline order: the corrections that make
/// NIOHTTP2 answer errors as RFC 9113 says (`HTTP2ErrorConformance`) and apply the proxy's
/// settings at once (`HTTP2SettingsAtOnce`), then `NIOHTTP2Handler` itself, whose stream
/// delegate records the streams the corrections need to know about before passing them to `next`.
enum HTTP2ServerHandlers {
    static func make(
        on channel: any Channel, connection: NIOHTTP2Handler.ConnectionConfiguration,
        stream: NIOHTTP2Handler.StreamConfiguration, next: any NIOHTTP2StreamDelegate,
        streamInitializer: @escaping NIOChannelInitializer
    ) -> [any ChannelHandler] {
        let streams = HTTP2ClientStreams()
        let http2 = NIOHTTP2Handler(
            mode: .server, eventLoop: channel.eventLoop, connectionConfiguration: connection, streamConfiguration: stream,
            streamDelegate: HTTP2StreamRecorder(streams: NIOLoopBound(streams, eventLoop: channel.eventLoop), next: next),
            inboundStreamInitializer: streamInitializer
        )
        return [HTTP2ErrorConformance(streams: streams), HTTP2SettingsAtOnce(), http2]
    }
}
