import Foundation
import Testing

/// HTTP/2 where it meets the outside world: request heads as large as HTTP/1.1 takes, in any
/// framing, and the answers RFC 9113 asks for when a client breaks the protocol (the h2spec cases),
/// each ending a broken connection at once.
@Suite("HTTP/2 conformance end to end", .timeLimit(.minutes(3)))
struct HTTP2ConformanceTests {
    /// The proxy's HTTP/1.1 limit on header names and values (Go's 1 MiB MaxHeaderBytes and 4 KiB).
    static let http1HeaderLimit = 1_052_672
    /// The most curl sends in a request head: nghttp2 refuses more than 64 KiB over HTTP/2.
    static let curlHeaderSizes = [8_000, 16_000, 30_000, 60_000]

    @Test("curl's large request heads get the same answer over HTTP/2 as over HTTP/1.1, sent before the proxy's SETTINGS are acknowledged")
    func curlLargeHeads() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            for size in Self.curlHeaderSizes {
                var bodies: [Data] = []
                for version in [HTTPVersion.http1_1, .http2] {
                    let response = try await Curl.perform(CurlRequest(
                        url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
                        httpVersion: version, headers: ["X-Large: " + String(repeating: "a", count: size)], maxTime: .seconds(20)))
                    #expect(response.status == 200, "\(size) bytes over \(version): \(response.summary)")
                    #expect(response.httpVersion == version.rawValue)
                    bodies.append(response.body)
                }
                #expect(bodies[0] == bodies[1], "\(size) bytes: the two protocols got different bodies")
            }
            let forwarded = try await environment.upstream.requests()
            #expect(forwarded.count == 2 * Self.curlHeaderSizes.count)
            #expect(forwarded.map { $0.headers["X-Large"]?.first?.count ?? 0 } == Self.curlHeaderSizes.flatMap { [$0, $0] })
        }
    }

    /// One head and what both protocols must answer it with.
    struct Head: Sendable, CustomStringConvertible {
        let headers: HostileClient.LargeHeaders
        /// 200 within the limit, 431 above it.
        let status: Int

        var description: String { "\(headers) → \(status)" }
    }

    static let heads: [Head] = [
        Head(headers: .init(bytes: 100_000), status: 200),
        Head(headers: .init(bytes: 1_040_000), status: 200),
        Head(headers: .init(bytes: 1_040_000, fragment: 1 << 18), status: 200),
        Head(headers: .init(bytes: 200_000, fragment: 210_000), status: 200),
        Head(headers: .init(bytes: 1_000_000, fields: 400), status: 200),
        Head(headers: .init(bytes: 1_053_000), status: 431),
        Head(headers: .init(bytes: 1_000, fields: 501), status: 431),
    ]

    @Test("heads up to the HTTP/1.1 limit are served over HTTP/2 in any framing, one field or many; above it, 431 on that stream while the next is served; as over HTTP/1.1")
    func limitIsHTTP1s() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            let port = environment.proxy.port
            for head in Self.heads {
                let report = try await HostileClient.h2(
                    "large-headers", port: port, token: TestUsers.alice.token, path: "/debug/pprof/cmdline", largeHeaders: head.headers)
                let expected = head.status == 200 ? ["200": 2] : [String(head.status): 1, "200": 1]
                #expect(report.statuses == expected, "\(head): \(report)")
                #expect(report.goAway == nil && !report.closedByServer, "\(head): \(report)")
                #expect((report.serverMaxHeaderListSize ?? 0) >= Self.http1HeaderLimit + 32 * 500, "advertised: \(report)")

                let http1 = try await HostileClient.raw(
                    Self.http1Request(head.headers), port: port, in: environment.workspace, readTimeout: .seconds(5))
                #expect(http1.statuses == [head.status], "\(head) over HTTP/1.1: \(http1.statuses), \(http1.ended)")
            }
            let served = try await environment.upstream.requests().filter { $0.hasHeader("x-large-0000") }
            let sizes = served.map { request in
                request.headers.filter { $0.key.lowercased().hasPrefix("x-large-") }.values.reduce(0) { $0 + ($1.first?.count ?? 0) }
            }
            let within = Self.heads.filter { $0.status == 200 }.map(\.headers.bytes)
            #expect(sizes == within.flatMap { [$0, $0] }, "every byte of every head within the limit reached pprof, over both protocols")
        }
    }

    @Test("a head larger than HTTP/2's advertised limit ends its connection at once (GOAWAY PROTOCOL_ERROR, closed), and other connections are served")
    func farOverTheLimit() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            let report = try await HostileClient.h2(
                "large-headers", port: environment.proxy.port, token: TestUsers.alice.token, path: "/debug/pprof/cmdline",
                largeHeaders: .init(bytes: 2_000_000))
            #expect(report.goAway?.code == "PROTOCOL_ERROR", "\(report)")
            #expect(report.goAway?.lastStreamID == 0, "nothing was opened: \(report)")
            #expect(report.closedByServer, "\(report)")
            let other = try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token, httpVersion: .http2)
            #expect(other.status == 200, "\(other.summary)")
        }
    }

    /// A connection error and what the proxy must end the connection with.
    struct ConnectionError: Sendable, CustomStringConvertible {
        let attack: String
        let code: String

        var description: String { attack }
    }

    static let connectionErrors = [
        ConnectionError(attack: "ping-bad-length", code: "FRAME_SIZE_ERROR"),
        ConnectionError(attack: "ping-on-stream", code: "PROTOCOL_ERROR"),
        ConnectionError(attack: "headers-on-closed", code: "STREAM_CLOSED"),
        ConnectionError(attack: "headers-after-reset", code: "STREAM_CLOSED"),
    ]

    @Test("connection errors (§5.4.1, §5.1): one GOAWAY with the right code naming the last stream opened, then the socket is closed")
    func connectionErrorsClose() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            for error in Self.connectionErrors {
                let report = try await HostileClient.h2(
                    error.attack, port: environment.proxy.port, token: TestUsers.alice.token, path: "/debug/pprof/cmdline",
                    duration: .seconds(10))
                #expect(report.goAway?.code == error.code, "\(error): \(report)")
                #expect(report.goAway?.lastStreamID == 1, "\(error): \(report)")
                #expect(report.framesReceived["GOAWAY"] == 1, "\(error): \(report)")
                #expect(report.closedByServer && report.ended != "duration", "\(error): the connection stayed open: \(report)")
            }
        }
    }

    @Test("HEADERS again on a half-closed (remote) stream: a stream error STREAM_CLOSED (§5.1), and the connection serves the next request")
    func halfClosedStreamError() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            let report = try await HostileClient.h2(
                "headers-half-closed", port: environment.proxy.port, token: TestUsers.alice.token,
                path: "/debug/pprof/profile?seconds=2", duration: .seconds(10))
            #expect(report.resets == ["STREAM_CLOSED": 1], "\(report)")
            #expect(report.goAway == nil && !report.closedByServer, "\(report)")
            #expect(report.statuses == ["200": 1], "the request after it: \(report)")
        }
    }

    /// `head` as an HTTP/1.1 request of /debug/pprof/cmdline, with the fields hostile-client sends.
    static func http1Request(_ head: HostileClient.LargeHeaders) -> String {
        var request = "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer \(TestUsers.alice.token)\r\n"
        for field in 0..<head.fields {
            let size = head.bytes / head.fields + (field < head.bytes % head.fields ? 1 : 0)
            request += "X-Large-" + String(String(field + 10_000).dropFirst()) + ": " + String(repeating: "a", count: size) + "\r\n"
        }
        return request + "Connection: close\r\n\r\n"
    }
}
