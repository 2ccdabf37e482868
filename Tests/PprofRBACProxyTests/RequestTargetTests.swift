import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("RequestTarget: percent-decoding and normalization")
struct RequestTargetTests {
    @Test(
        "normalizes what Go's ServeMux would clean",
        arguments: [
            ("/debug/pprof/heap", "/debug/pprof/heap"),
            ("/debug/pprof/", "/debug/pprof/"),
            ("/debug/pprof", "/debug/pprof"),
            ("//debug/pprof/heap", "/debug/pprof/heap"),
            ("/debug//pprof///heap", "/debug/pprof/heap"),
            ("/debug/pprof/./heap", "/debug/pprof/heap"),
            ("/debug/pprof/../pprof/heap", "/debug/pprof/heap"),
            ("/debug/pprof/%2e%2e/pprof/heap", "/debug/pprof/heap"),
            ("/debug/pprof/%2E%2E/%2E%2E/secret", "/secret"),
            ("/../../debug/pprof/heap", "/debug/pprof/heap"),
            ("/debug/pprof/heap/.", "/debug/pprof/heap"),
            ("/debug/pprof/./", "/debug/pprof/"),
            ("/debug/pprof/heap/..", "/debug/pprof"),
            ("/debug/pprof/%68eap", "/debug/pprof/heap"),
            ("/debug/pprof/%70rofile", "/debug/pprof/profile"),
            ("/DEBUG/pprof/heap", "/DEBUG/pprof/heap"),
            ("/debug/pprof/heap;x=1", "/debug/pprof/heap;x=1"),
            ("/debug/pprof/a\\b", "/debug/pprof/a\\b"),
            ("/", "/"),
            // Found by the fuzzer: a combining mark after `/` makes one Character of both, but Go
            // splits bytes, so the `..` after it must still be resolved here.
            ("/debug/pprof/x/../%CD%91y", "/debug/pprof/\u{0351}y"),
            ("/debug/../%CD%91secret", "/\u{0351}secret"),
            ("/debug/pprof/%CD%91..", "/debug/pprof/\u{0351}.."),
        ]
    )
    func normalizes(raw: String, expected: String) throws {
        #expect(try RequestTarget(parsing: raw).path == expected)
    }

    @Test(
        "refuses what cannot be decoded safely",
        arguments: [
            ("/debug/pprof/%2Fheap", RequestTargetError.encodedSlash),
            ("/debug/pprof/%2fheap", .encodedSlash),
            ("/debug/pprof/heap%00", .nulByte),
            ("/debug/pprof/%zzheap", .invalidPercentEncoding),
            ("/debug/pprof/heap%2", .invalidPercentEncoding),
            ("/debug/pprof/heap%", .invalidPercentEncoding),
            ("/debug/pprof/%c0%ae%c0%ae/", .invalidUTF8),
            ("/debug/pprof/%ff", .invalidUTF8),
            ("/debug/pprof/heap%0a", .controlCharacter),
            ("/debug/pprof/heap#frag", .fragment),
            ("debug/pprof/heap", .notOriginForm),
            ("*", .notOriginForm),
            ("http://example.com/debug/pprof/heap", .notOriginForm),
            ("", .notOriginForm),
        ]
    )
    func refuses(raw: String, expected: RequestTargetError) {
        #expect(throws: expected) { try RequestTarget(parsing: raw) }
    }

    @Test("keeps the raw query byte for byte, and only splits at the first question mark")
    func rawQuery() throws {
        #expect(try RequestTarget(parsing: "/debug/pprof/symbol?0x1+0x2").rawQuery == "0x1+0x2")
        #expect(try RequestTarget(parsing: "/debug/pprof/heap?debug=1&gc=1%20?x").rawQuery == "debug=1&gc=1%20?x")
        #expect(try RequestTarget(parsing: "/debug/pprof/heap?").rawQuery == "")
        #expect(try RequestTarget(parsing: "/debug/pprof/heap").rawQuery == nil)
        #expect(try RequestTarget(parsing: "/debug/pprof/%68eap?seconds=%2F").path == "/debug/pprof/heap")
    }

    @Test("the forwarded path decodes to exactly the authorized path")
    func encodedPathRoundTrips() throws {
        for raw in ["/debug/pprof/heap", "/debug/pprof/a%20b", "/debug/pprof/%25", "/debug/pprof/%3F", "/debug/pprof/%23x", "/debug/pprof/caf%C3%A9", "/debug/pprof/a;b=c"] {
            let target = try RequestTarget(parsing: raw)
            let reparsed = try RequestTarget(parsing: target.encodedPath)
            #expect(reparsed.path == target.path, "\(raw)")
            #expect(!target.encodedPath.contains("?") && !target.encodedPath.contains("#") && !target.encodedPath.contains(" "))
        }
        #expect(try RequestTarget(parsing: "/debug/pprof/%68eap").encodedPath == "/debug/pprof/heap")
        #expect(try RequestTarget(parsing: "/debug/pprof/symbol?0x1+0x2").encodedTarget == "/debug/pprof/symbol?0x1+0x2")
    }
}
