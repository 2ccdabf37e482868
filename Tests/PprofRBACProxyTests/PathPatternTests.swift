import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("PathPattern: Go path.Match semantics")
struct PathPatternTests {
    // Cases from Go's path/match_test.go, plus the pprof ones.
    @Test(
        "matches like path.Match",
        arguments: [
            ("abc", "abc", true), ("*", "abc", true), ("*c", "abc", true), ("a*", "a", true), ("a*", "abc", true),
            ("a*", "ab/c", false), ("a*/b", "abc/b", true), ("a*/b", "a/c/b", false), ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false), ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false), ("ab[c]", "abc", true), ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false), ("ab[^c]", "abc", false), ("ab[^b-d]", "abc", false), ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true), ("a\\*b", "ab", false), ("a?b", "a☺b", true), ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false), ("a[^a][^a][^a]b", "a☺b", false), ("[a-ζ]*", "α", true), ("*[a-ζ]", "A", false),
            ("a?b", "a/b", false), ("a*b", "a/b", false), ("[\\]a]", "]", true), ("[\\-]", "-", true),
            ("[x\\-]", "x", true), ("[x\\-]", "-", true), ("[x\\-]", "z", false), ("[\\-x]", "x", true),
            ("[\\-x]", "-", true), ("[\\-x]", "a", false), ("*x", "xxx", true),
            ("/debug/pprof/*", "/debug/pprof/heap", true), ("/debug/pprof/*", "/debug/pprof/", true),
            ("/debug/pprof/*", "/debug/pprof", false), ("/debug/pprof/*", "/debug/pprof/heap/x", false),
            ("/debug/pprof", "/debug/pprof", true), ("/debug/pprof", "/debug/pprof/", false),
        ]
    )
    func matches(pattern: String, name: String, expected: Bool) throws {
        #expect(try PathPattern(pattern).matches(name) == expected)
    }

    @Test(
        "rejects what Go reports as ErrBadPattern",
        arguments: ["[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "*[", "a*[", "[\\"]
    )
    func rejectsBadPatterns(pattern: String) {
        #expect(throws: PathPatternError.self) { try PathPattern(pattern) }
    }
}
