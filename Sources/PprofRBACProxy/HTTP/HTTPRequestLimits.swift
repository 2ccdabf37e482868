import NIOHTTP1

/// How much of a request head the proxy reads before answering 431, as Go's `http.Server` with its
/// default `MaxHeaderBytes` (1 MiB, plus the 4 KiB Go reads beyond it), so a request kube-rbac-proxy
/// reads is read here too; and at most this many header fields, which Go does not limit. The same
/// limits hold over HTTP/1.1 and HTTP/2.
enum HTTPRequestLimits {
    /// Header names and values together, in bytes.
    static let maximumHeaderBytes = (1 << 20) + 4096
    /// Header fields in one request head (trailers included).
    static let maximumHeaderFields = 500

    /// SETTINGS_MAX_HEADER_LIST_SIZE: the same limit in HTTP/2's units (RFC 9113 §6.5.2), where
    /// each field counts 32 bytes more and the request line travels as pseudo-header fields: room
    /// for `maximumHeaderFields` fields and four pseudo-header fields, plus 8 KiB of method, scheme
    /// and request target. A header block above it cannot be read at all, so it ends the connection.
    static let http2HeaderListSize = maximumHeaderBytes + 32 * (maximumHeaderFields + 4) + 8192

    /// CONTINUATION frames that may follow one HEADERS frame: enough to carry `http2HeaderListSize`
    /// in frames of the smallest maximum frame size (16 KiB), as every client can send them. More is a
    /// CONTINUATION flood (ENHANCE_YOUR_CALM), as are blocks larger than `http2HeaderListSize`.
    static let http2MaximumContinuationFrames = http2HeaderListSize / (1 << 14) + 1

    /// The limits of NIO's HTTP/1.1 request decoder.
    static var http1Decoder: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maximumHeaderBytes
        limits.maxHeaderListSize = maximumHeaderBytes
        limits.maxHeaderFieldCount = maximumHeaderFields
        return limits
    }

    /// Whether `headers` are within the limits, counted as NIO's HTTP/1.1 decoder counts them. Over
    /// HTTP/1.1 the decoder has checked already; an HTTP/2 head is checked here.
    static func admits(_ headers: HTTPHeaders) -> Bool {
        guard headers.count <= maximumHeaderFields else { return false }
        var bytes = 0
        for (name, value) in headers {
            bytes += name.utf8.count + value.utf8.count
            if bytes > maximumHeaderBytes { return false }
        }
        return true
    }
}
