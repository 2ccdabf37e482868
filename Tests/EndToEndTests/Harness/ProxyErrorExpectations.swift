import Testing

/// Checks what every error the proxy itself answers has in common: the status, a short
/// `text/plain; charset=utf-8` body starting with `bodyPrefix` and ending in a newline, and the
/// `X-Content-Type-Options: nosniff` and `X-Go-Pprof: 1` headers (so `go tool pprof` prints it).
func expectProxyError(
    _ response: CurlResponse,
    status: Int,
    bodyPrefix: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == status, "\(response.summary)", sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "text/plain; charset=utf-8", sourceLocation: sourceLocation)
    #expect(response.header("X-Content-Type-Options") == "nosniff", sourceLocation: sourceLocation)
    #expect(response.header("X-Go-Pprof") == "1", sourceLocation: sourceLocation)
    #expect(response.bodyText.hasPrefix(bodyPrefix), "body: \(response.bodyText.debugDescription)", sourceLocation: sourceLocation)
    #expect(response.bodyText.hasSuffix("\n"), "body: \(response.bodyText.debugDescription)", sourceLocation: sourceLocation)
    #expect(response.body.count < 512, "error bodies stay short", sourceLocation: sourceLocation)
}
