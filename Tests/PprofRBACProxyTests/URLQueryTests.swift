import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("URLQuery: Go's url.ParseQuery")
struct URLQueryTests {
    @Test("values in order, percent-decoded, + as a space, empty values kept", arguments: [
        ("ns=a&ns=b", ["a", "b"]),
        ("x=1&ns=a%20b&y=2&ns=c+d", ["a b", "c d"]),
        ("ns=&ns", ["", ""]),
        ("ns=%E2%9C%93", ["✓"]),
        ("ns=a=b", ["a=b"]),
        ("n%73=encoded-key", ["encoded-key"]),
        ("&&ns=a&&", ["a"]),
        ("NS=upper", []),
        ("", []),
        // Found by the fuzzer: `&` followed by a combining mark is one Character, but Go splits bytes.
        ("ns=a&\u{0351}x=1&ns=b", ["a", "b"]),
    ])
    func values(query: String, expected: [String]) {
        #expect(URLQuery(parsing: query).values(for: "ns") == expected)
    }

    @Test("pairs with a semicolon or a malformed escape are skipped, the others kept")
    func skipped() {
        #expect(URLQuery(parsing: "ns=a;b&ns=c").values(for: "ns") == ["c"])
        #expect(URLQuery(parsing: "ns=%zz&ns=%4&ns=ok").values(for: "ns") == ["ok"])
        #expect(URLQuery(parsing: "n%s=x&ns=ok").values(for: "ns") == ["ok"])
    }
}
