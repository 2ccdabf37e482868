import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("UpstreamTarget: http:// and https:// upstream URLs")
struct UpstreamTargetTests {
    @Test("https:// is accepted, with 443 as its default port")
    func https() throws {
        #expect(
            try UpstreamTarget(parsing: "https://127.0.0.1:8081/")
                == UpstreamTarget(scheme: .https, host: "127.0.0.1", port: 8081, basePath: "/")
        )
        #expect(try UpstreamTarget(parsing: "https://pprof.example/").port == 443)
        #expect(try UpstreamTarget(parsing: "http://pprof.example/").port == 80)
        #expect(try UpstreamTarget(parsing: "HTTPS://pprof.example/").scheme == .https)
        #expect(try UpstreamTarget(parsing: "https://[::1]:9443").host == "::1")
    }

    @Test("the base path and query are joined onto request targets whatever the scheme")
    func joining() throws {
        let target = try UpstreamTarget(parsing: "https://pprof.example:8443/prefix?token=x")
        #expect(target == UpstreamTarget(scheme: .https, host: "pprof.example", port: 8443, basePath: "/prefix", baseQuery: "token=x"))
        #expect(target.requestTarget(for: try RequestTarget(parsing: "/debug/pprof/heap?debug=1")) == "/prefix/debug/pprof/heap?token=x&debug=1")
    }

    @Test("the Host header leaves out the scheme's default port only")
    func hostHeader() throws {
        #expect(try UpstreamTarget(parsing: "https://pprof.example/").hostHeader == "pprof.example")
        #expect(try UpstreamTarget(parsing: "https://pprof.example:80/").hostHeader == "pprof.example:80")
        #expect(try UpstreamTarget(parsing: "http://pprof.example:443/").hostHeader == "pprof.example:443")
        #expect(try UpstreamTarget(parsing: "https://[::1]:8443/").hostHeader == "[::1]:8443")
    }

    @Test("other schemes and malformed URLs are refused", arguments: [
        "ftp://127.0.0.1:8081/", "h2c://127.0.0.1:8081/", "127.0.0.1:8081", "//127.0.0.1:8081/", "https://:443/",
        "https://host:0/", "https://host:x/", "https://[::1/",
    ])
    func refused(url: String) {
        #expect(throws: ConfigurationError.self) { try UpstreamTarget(parsing: url) }
    }
}
