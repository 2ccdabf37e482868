import Testing

@testable import PprofRBACProxy

@Suite("PprofEndpoint: a bounded endpoint label")
struct PprofEndpointTests {
    @Test(
        "named endpoints, the index, and other for the rest",
        arguments: [
            ("/debug/pprof/heap", "heap"), ("/debug/pprof/profile", "profile"), ("/debug/pprof/trace", "trace"),
            ("/debug/pprof/symbol", "symbol"), ("/debug/pprof/%68eap", "heap"), ("/debug/pprof//goroutine", "goroutine"),
            ("/debug/pprof/", "index"), ("/debug/pprof", "index"), ("/debug/pprof/mycustom", "other"),
            ("/debug/pprof/heap/x", "other"), ("/metrics", "other"), ("/debug/pprof/%2Fheap", "other"), ("*", "other"),
        ]
    )
    func label(path: String, expected: String) {
        #expect(PprofEndpoint.label(forPath: path) == expected)
    }
}
