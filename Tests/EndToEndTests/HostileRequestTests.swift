import Foundation
import Testing

/// Requests built to confuse a proxy: ambiguous framing, smuggled and pipelined requests, tricky
/// paths and oversized or doubled headers, sent byte for byte with tools/hostile-client.
@Suite("Hostile requests", .timeLimit(.minutes(3)))
struct HostileRequestTests {
    /// alice's credentials as a header line.
    static let alice = "Authorization: Bearer \(TestUsers.alice.token)\r\n"
    /// A request that would leak the command line if it reached pprof unauthenticated.
    static let smuggled = "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\n\r\n"

    /// Framing that two HTTP parsers could read differently, each hiding `smuggled` (or a body) behind
    /// an authorized request.
    static let ambiguousFraming: [(name: String, request: String)] = [
        ("Content-Length with Transfer-Encoding", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\(smuggled)"),
        ("Transfer-Encoding with Content-Length", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Transfer-Encoding: chunked\r\nContent-Length: 45\r\n\r\n0\r\n\r\n\(smuggled)"),
        ("two different Content-Lengths", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Content-Length: 0\r\nContent-Length: 44\r\n\r\n\(smuggled)"),
        ("two equal Content-Lengths", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Content-Length: 3\r\nContent-Length: 3\r\n\r\n0x1"),
        ("a Content-Length list", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Content-Length: 3, 3\r\n\r\n0x1"),
        ("a Content-Length that is not a number", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Content-Length: 3a\r\n\r\n0x1"),
        ("a negative Content-Length", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Content-Length: -3\r\n\r\n0x1"),
        ("a Content-Length with a sign", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Content-Length: +3\r\n\r\n0x1"),
        ("an invalid chunk size", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Transfer-Encoding: chunked\r\n\r\nzz\r\n0x1\r\n0\r\n\r\n\(smuggled)"),
        ("a chunk size over 64 bits", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\n0x1\r\n0\r\n\r\n"),
        ("an unknown Transfer-Encoding", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Transfer-Encoding: xchunked\r\n\r\n3\r\n0x1\r\n0\r\n\r\n"),
        ("chunked not last in Transfer-Encoding", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(alice)Transfer-Encoding: chunked, identity\r\n\r\n3\r\n0x1\r\n0\r\n\r\n"),
        ("bare LF line endings", "GET /debug/pprof/cmdline HTTP/1.1\nHost: x\nAuthorization: Bearer \(TestUsers.alice.token)\n\n"),
        ("a bare LF hiding a request line", "GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\n\(alice)X-A: b\n\(smuggled)"),
        ("an obs-folded header", "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\n\(alice)X-Folded: a\r\n b\r\n\r\n"),
        ("Authorization folded into another header", "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n \(alice)\r\n"),
        ("a space before the colon", "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\nAuthorization : Bearer \(TestUsers.alice.token)\r\n\r\n"),
        ("an HTTP/0.9 request line", "GET /debug/pprof/cmdline\r\n\r\n"),
        ("a NUL byte in a header value", "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\n\(alice)X-A: a\u{0}b\r\n\r\n"),
    ]

    @Test("Ambiguous or malformed framing: 400, the connection closes, and nothing reaches pprof")
    func ambiguousFramingIsRefused() async throws {
        try await ProxyEnvironment.withKubernetesProxy(rules: [.aliceReadsPprof, .alicePostsSymbol]) { environment, _ in
            for (name, request) in Self.ambiguousFraming {
                let report = try await HostileClient.raw(request, port: environment.proxy.port, in: environment.workspace)
                #expect(report.statuses == [400], "\(name): \(report.received.prefix(300))")
                #expect(report.responses.first?.body.hasPrefix("Bad Request: malformed HTTP/1.1 request (") == true, "\(name)")
                #expect(report.closedByServer, "\(name): the connection must close, it ended \(report.ended)")
                #expect(try await environment.upstream.requests().isEmpty, "\(name) reached pprof")
            }
            #expect(try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token).status == 200, "the proxy still serves")
        }
    }

    @Test("Pipelined requests are each decided on their own: the unauthenticated or unauthorized one is never forwarded")
    func pipelinedRequests() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let heap = "GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\n\(Self.alice)\r\n"
            let asBob = "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(TestUsers.bob.token)\r\n\r\n"
            let last = "GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let cases: [(requests: String, statuses: [Int])] = [
                (heap + Self.smuggled, [200, 401]),
                (heap + asBob, [200, 403]),
                (Self.smuggled + heap, [401, 200]),
                (asBob + heap + Self.smuggled, [403, 200, 401]),
            ]
            for (requests, statuses) in cases {
                // A last unauthenticated request that closes the connection, so the read ends at once.
                let report = try await HostileClient.raw(requests + last, port: environment.proxy.port, in: environment.workspace)
                #expect(report.statuses == statuses + [401], "\(report.received.prefix(200))")
            }
            let forwarded = try await environment.upstream.requests().map(\.path)
            #expect(forwarded == Array(repeating: "/debug/pprof/heap", count: 4))
        }
    }

    @Test("A request hidden in a refused request's body stays a body: one 403, nothing forwarded")
    func requestInBody() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let request = "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n\(Self.alice)Content-Length: \(Self.smuggled.utf8.count)\r\n\r\n\(Self.smuggled)"
            let report = try await HostileClient.raw(request, port: environment.proxy.port, in: environment.workspace, readTimeout: .seconds(2))
            #expect(report.statuses == [403], "alice may only get: \(report.received.prefix(200))")
            try await environment.expectNothingForwarded()
        }
    }

    /// Targets that must either be refused (400 or 404) or be authorized and forwarded as one path.
    static let hostilePaths: [(target: String, outcome: PathOutcome)] = [
        ("/debug/pprof/%2e%2e/%2e%2e/metrics", .notFound),
        ("/debug/pprof/%2E%2E/pprof/heap", .forwarded("/debug/pprof/heap")),
        ("/debug/pprof/%2fheap", .badRequest),
        ("/debug/pprof/heap%00", .badRequest),
        ("/debug/pprof/%C0%AE%C0%AE/%C0%AE%C0%AE/metrics", .badRequest),
        ("/debug/pprof/%ZZ", .badRequest),
        ("/debug/pprof/heap#fragment", .badRequest),
        ("http://upstream/debug/pprof/cmdline", .badRequest),
        ("*", .badRequest),
        ("/debug/pprof/..\\..\\metrics", .forwarded("/debug/pprof/..\\..\\metrics")),
        ("//debug//pprof//heap", .forwarded("/debug/pprof/heap")),
        ("/debug/pprof/./heap/.", .forwarded("/debug/pprof/heap")),
        ("/debug/pprof/heap;x=1", .forwarded("/debug/pprof/heap;x=1")),
        ("/debug/pprof/x/../%CD%91y", .forwarded("/debug/pprof/\u{0351}y")),
        ("/DEBUG/PPROF/heap", .notFound),
        ("/Debug/pprof/heap", .notFound),
        ("/debug/pprof/" + String(repeating: "a", count: 64 * 1024), .forwarded("/debug/pprof/" + String(repeating: "a", count: 64 * 1024))),
    ]

    /// What the proxy must do with a hostile path.
    enum PathOutcome: Sendable {
        case badRequest
        case notFound
        /// Authorized as this path and forwarded as exactly this path.
        case forwarded(String)
    }

    @Test("Hostile paths: the path authorized is exactly the path pprof serves, or the request is refused")
    func hostilePaths() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            for (target, outcome) in Self.hostilePaths {
                let before = try await (apiServer.reviewRequests().count, environment.upstream.requests().count)
                let request = "GET \(target) HTTP/1.1\r\nHost: x\r\n\(Self.alice)Connection: close\r\n\r\n"
                let report = try await HostileClient.raw(request, port: environment.proxy.port, in: environment.workspace, readTimeout: .seconds(2))
                let label = String(target.prefix(60))
                let reviews = try await apiServer.reviewRequests().dropFirst(before.0)
                let forwarded = try await environment.upstream.requests().dropFirst(before.1)
                switch outcome {
                case .badRequest, .notFound:
                    #expect(report.statuses == [outcome.status], "\(label): \(report.received.prefix(200))")
                    #expect(reviews.isEmpty && forwarded.isEmpty, "\(label) was reviewed or forwarded")
                case .forwarded(let path):
                    let authorized = reviews.compactMap { $0.spec.nonResourceAttributes?.path }
                    // No review at all: the decision for this very path was cached.
                    #expect(authorized.allSatisfy { $0 == path } && authorized.count <= 1, "\(label) authorized as \(authorized.map { $0.prefix(60) })")
                    #expect(forwarded.map(\.path) == [path], "\(label) forwarded as \(forwarded.map { $0.path.prefix(60) })")
                    #expect(report.responses.count == 1, "\(label): \(report.received.prefix(200))")
                }
            }
        }
    }

    @Test("A header block over Go's 1 MiB, or more than 500 fields: 431 before any API call, nothing forwarded")
    func oversizedHeaders() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            let huge = "X-Big: " + String(repeating: "a", count: 1_100_000) + "\r\n"
            let many = String(repeating: "X-Many: a\r\n", count: 501)
            for headers in [huge, many] {
                let request = "GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\n\(Self.alice)\(headers)\r\n"
                let report = try await HostileClient.raw(request, port: environment.proxy.port, in: environment.workspace)
                #expect(report.statuses == [431], "\(report.received.prefix(200))")
                #expect(report.responses.first?.body.hasPrefix("Request Header Fields Too Large") == true)
                #expect(report.closedByServer)
            }
            #expect(try await apiServer.calls() == .none)
            try await environment.expectNothingForwarded()
        }
    }

    @Test("Authorization: a 1 MiB token is 401 with no API call; two headers are 400; only the Bearer scheme counts")
    func authorizationHeaders() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            let megabyteToken = String(repeating: "t", count: 1 << 20)
            let cases: [(headers: String, status: Int)] = [
                ("Authorization: Bearer \(megabyteToken)\r\n", 401),
                ("\(Self.alice)\(Self.alice)", 400),
                ("\(Self.alice)Authorization: Bearer \(TestUsers.bob.token)\r\n", 400),
                ("Authorization: Basic \(Data("alice:\(TestUsers.alice.token)".utf8).base64EncodedString())\r\n", 401),
                ("Authorization: Token \(TestUsers.alice.token)\r\n", 401),
                ("Authorization: Bearer\r\n", 401),
                ("Authorization: Bearer \r\n", 401),
            ]
            for (headers, status) in cases {
                let request = "GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\n\(headers)Connection: close\r\n\r\n"
                let report = try await HostileClient.raw(request, port: environment.proxy.port, in: environment.workspace)
                #expect(report.statuses == [status], "\(headers.prefix(40)): \(report.received.prefix(200))")
            }
            #expect(try await apiServer.calls() == .none, "none of these is a token worth asking about")
            try await environment.expectNothingForwarded()

            let lowercase = "GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\nauthorization: bearer \(TestUsers.alice.token)\r\nConnection: close\r\n\r\n"
            let report = try await HostileClient.raw(lowercase, port: environment.proxy.port, in: environment.workspace)
            #expect(report.statuses == [200], "header name and scheme are case-insensitive, as in Kubernetes")
        }
    }
}

extension HostileRequestTests.PathOutcome {
    var status: Int {
        switch self {
        case .badRequest: 400
        case .notFound: 404
        case .forwarded: 200
        }
    }
}
