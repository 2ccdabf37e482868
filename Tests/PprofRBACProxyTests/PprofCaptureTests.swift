import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("PprofCapture: seconds read exactly as net/http/pprof reads them")
struct PprofCaptureTests {
    @Test(
        "CPU profile: ParseInt; invalid or not positive means 30; the first value wins",
        arguments: [
            ("seconds=5", 5), (nil, 30), ("", 30), ("seconds=", 30), ("seconds=abc", 30), ("seconds=1.5", 30),
            ("seconds=0", 30), ("seconds=-5", 30), ("seconds=%2B7", 7), ("seconds=+7", 30), ("seconds=007", 7), ("seconds=1_000", 30),
            ("seconds=0x10", 30), ("seconds=1e3", 30), ("seconds=99999999999999999999", 30), ("seconds=%32%30", 20),
            ("seconds=1&seconds=30", 1), ("debug=1&seconds=12", 12), ("sec%6Fnds=9", 9), ("seconds=5;x=1", 30),
            ("seconds= 5", 30),
        ] as [(String?, Int64)]
    )
    func cpuProfile(query: String?, expected: Int64) {
        #expect(PprofCapture(path: "/debug/pprof/profile", rawQuery: query) == .cpuProfile(seconds: expected))
    }

    @Test(
        "trace: ParseFloat; invalid or not positive means 1",
        arguments: [
            ("seconds=2.5", 2.5), (nil, 1), ("seconds=abc", 1), ("seconds=0", 1), ("seconds=-3", 1), ("seconds=1e2", 100),
            ("seconds=0x1p4", 16), ("seconds=0x1_0p0", 16), ("seconds=1_000", 1000), ("seconds=_1", 1), ("seconds=1_", 1),
            ("seconds=1__0", 1), ("seconds=0x10", 1), ("seconds=.5", 0.5), ("seconds=5.", 5), ("seconds=1e400", 1),
            ("seconds=1e-400", 1), ("seconds=Inf", .infinity), ("seconds=%2Binfinity", .infinity), ("seconds=-inf", 1),
            ("seconds=3&seconds=300", 3), ("seconds=1e", 1), ("seconds=0x1.8p1", 3), ("seconds=1_0.5", 10.5), ("seconds=0b101", 1),
        ] as [(String?, Double)]
    )
    func trace(query: String?, expected: Double) {
        #expect(PprofCapture(path: "/debug/pprof/trace", rawQuery: query) == .trace(seconds: expected))
    }

    @Test("trace: NaN stays NaN (Go would run with it), so the cap refuses it")
    func traceNaN() {
        guard case .trace(let seconds) = PprofCapture(path: "/debug/pprof/trace", rawQuery: "seconds=NaN") else {
            Issue.record("expected a trace")
            return
        }
        #expect(seconds.isNaN)
    }

    @Test(
        "delta profiles: a positive integer on a named profile; anything else is no capture (Go answers 400 itself)",
        arguments: [
            ("/debug/pprof/heap", "seconds=10", PprofCapture.delta(profile: "heap", seconds: 10)),
            ("/debug/pprof/allocs", "seconds=3&seconds=600", .delta(profile: "allocs", seconds: 3)),
            ("/debug/pprof/mutex", "seconds=1", .delta(profile: "mutex", seconds: 1)),
            ("/debug/pprof/heap", "seconds=0", nil), ("/debug/pprof/heap", "seconds=abc", nil),
            ("/debug/pprof/heap", "debug=1", nil), ("/debug/pprof/heap", nil, nil), ("/debug/pprof/custom", "seconds=10", nil),
            ("/debug/pprof/", "seconds=10", nil), ("/debug/pprof/cmdline", "seconds=10", nil),
        ] as [(String, String?, PprofCapture?)]
    )
    func delta(path: String, query: String?, expected: PprofCapture?) {
        #expect(PprofCapture(path: path, rawQuery: query) == expected)
    }
}

@Suite("PprofGuardrails: the capture cap cannot be bypassed")
struct PprofGuardrailsTests {
    let guardrails = PprofGuardrails(maximumCaptureSeconds: 60)

    func refusal(_ target: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) throws -> ProxyError? {
        guardrails.refusal(method: method, target: try RequestTarget(parsing: target), headers: HTTPHeaders(headers))
    }

    @Test("captures up to the cap pass; longer ones are 400 naming the cap")
    func cap() throws {
        #expect(try refusal("/debug/pprof/profile?seconds=60") == nil)
        #expect(try refusal("/debug/pprof/profile?seconds=61") == .captureTooLong(seconds: "61", maximum: 60))
        #expect(try refusal("/debug/pprof/trace?seconds=60.5") == .captureTooLong(seconds: "60.5", maximum: 60))
        #expect(try refusal("/debug/pprof/trace?seconds=inf") == .captureTooLong(seconds: "inf", maximum: 60))
        #expect(try refusal("/debug/pprof/trace?seconds=nan") == .captureTooLong(seconds: "NaN", maximum: 60))
        #expect(try refusal("/debug/pprof/heap?seconds=3600") == .captureTooLong(seconds: "3600", maximum: 60))
        #expect(try refusal("/debug/pprof/heap?seconds=0") == nil, "Go refuses that itself")
        #expect(try refusal("/debug/pprof/goroutine?debug=2") == nil)
        #expect(try refusal("/debug/pprof/cmdline") == nil)
        #expect(ProxyError.captureTooLong(seconds: "61", maximum: 60).message.contains("--max-capture-seconds=60"))
    }

    @Test("the default 30 s profile is refused under a smaller cap, and duplicate keys are read like Go")
    func defaultsAndDuplicates() throws {
        let tight = PprofGuardrails(maximumCaptureSeconds: 10)
        #expect(tight.refusal(method: .GET, target: try RequestTarget(parsing: "/debug/pprof/profile"), headers: [:]) != nil)
        #expect(tight.refusal(method: .GET, target: try RequestTarget(parsing: "/debug/pprof/trace"), headers: [:]) == nil)
        #expect(try refusal("/debug/pprof/profile?seconds=5&seconds=3600") == nil, "Go reads the first value: 5")
        #expect(try refusal("/debug/pprof/profile?seconds=3600&seconds=5") == .captureTooLong(seconds: "3600", maximum: 60))
        #expect(try refusal("/debug/pprof/profile?sec%6Fnds=3600") == .captureTooLong(seconds: "3600", maximum: 60))
        #expect(
            try refusal("/debug/pprof/profile?seconds=3600&\u{0351}x=1") == .captureTooLong(seconds: "3600", maximum: 60),
            "Go ends the value at the `&` byte, combining mark or not")
    }

    @Test("capture endpoints take GET and HEAD only, without a body (a form body would override the query)")
    func methodsAndBodies() throws {
        #expect(try refusal("/debug/pprof/profile?seconds=61", method: .HEAD) == .captureTooLong(seconds: "61", maximum: 60))
        #expect(try refusal("/debug/pprof/profile?seconds=1", method: .HEAD) == nil)
        for method in [HTTPMethod.POST, .PUT, .PATCH, .DELETE, .OPTIONS] {
            #expect(try refusal("/debug/pprof/profile?seconds=1", method: method) == .methodNotAllowed(allowed: ["GET", "HEAD"]))
            #expect(try refusal("/debug/pprof/heap", method: method) == .methodNotAllowed(allowed: ["GET", "HEAD"]))
        }
        let form = [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "12")]
        #expect(try refusal("/debug/pprof/profile?seconds=1", method: .GET, headers: form) == .badRequest("/debug/pprof/profile takes no request body"))
        #expect(try refusal("/debug/pprof/trace", method: .GET, headers: [("Transfer-Encoding", "chunked")]) != nil)
        #expect(try refusal("/debug/pprof/symbol", method: .POST, headers: [("Content-Length", "17")]) == nil, "symbol lookups keep working")
        let (head, _) = ProxyError.methodNotAllowed(allowed: ["GET", "HEAD"]).response(version: .http1_1, closeConnection: false)
        #expect(head.status == .methodNotAllowed)
        #expect(head.headers["allow"] == ["GET, HEAD"])
    }
}
