import NIOHTTP1

/// How much of a request head the proxy reads before answering 431, as Go's `http.Server` with its
/// default `MaxHeaderBytes` (1 MiB, plus the 4 KiB Go reads beyond it), so a request kube-rbac-proxy
/// reads is read here too; and at most this many header fields, which Go does not limit.
enum HTTPRequestLimits {
    /// Header names and values together, in bytes.
    static let maximumHeaderBytes = (1 << 20) + 4096
    /// Header fields in one request head (trailers included).
    static let maximumHeaderFields = 500

    /// The limits of NIO's HTTP/1.1 request decoder.
    static var http1Decoder: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maximumHeaderBytes
        limits.maxHeaderListSize = maximumHeaderBytes
        limits.maxHeaderFieldCount = maximumHeaderFields
        return limits
    }
}
