import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("TokenAuthFile: kube-apiserver's static token CSV")
struct TokenAuthFileTests {
    @Test("reads token, user, uid and quoted comma-separated groups")
    func parses() throws {
        let file = try TokenAuthFile.parse(
            """
            alice-token,alice,uid-alice,"pprof-users,ops"
            bob-token,bob,uid-bob
            "quoted,token",carol,uid-carol,"a ""quoted"" group"

            ,nobody,uid-empty
            dave-token,dave,uid-dave,single\r
            """,
            source: "tokens.csv"
        )
        #expect(file.users["alice-token"] == UserInfo(name: "alice", uid: "uid-alice", groups: ["pprof-users", "ops"]))
        #expect(file.users["bob-token"] == UserInfo(name: "bob", uid: "uid-bob", groups: []))
        #expect(file.users["quoted,token"] == UserInfo(name: "carol", uid: "uid-carol", groups: ["a \"quoted\" group"]))
        #expect(file.users["dave-token"] == UserInfo(name: "dave", uid: "uid-dave", groups: ["single"]))
        #expect(file.users[""] == nil)
        #expect(file.users.count == 4)
    }

    @Test("a later line with the same token wins")
    func duplicateTokens() throws {
        let file = try TokenAuthFile.parse("t,first,1\nt,second,2\n", source: "tokens.csv")
        #expect(file.users["t"]?.name == "second")
    }

    @Test(
        "bad files are refused with the line and the reason",
        arguments: [
            ("alice-token,alice\n", "at least 3 columns"),
            ("alice-token\n", "at least 3 columns"),
            ("a\"b,alice,uid\n", "bare \""),
            ("\"unterminated,alice,uid\n", "extraneous or missing \""),
            ("\"a\"x,alice,uid\n", "extraneous or missing \""),
        ]
    )
    func refuses(text: String, reason: String) {
        do {
            _ = try TokenAuthFile.parse(text, source: "tokens.csv")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
            #expect(error.description.contains("tokens.csv"))
            #expect(!error.description.contains("alice-token"), "a token must never appear in an error")
        }
    }

    @Test("a missing file names the flag and the path")
    func missingFile() {
        #expect(throws: ConfigurationError.self) { try TokenAuthFile.load(path: "/nonexistent/tokens.csv") }
    }
}

@Suite("Flag values: durations, addresses, upstream URLs")
struct FlagValueTests {
    @Test(
        "Go durations",
        arguments: [
            ("10s", Duration.seconds(10)), ("2m", .seconds(120)), ("1h30m", .seconds(5400)), ("500ms", .milliseconds(500)),
            ("1.5s", .milliseconds(1500)), ("0", .zero), ("90s", .seconds(90)), ("1m30s", .seconds(90)),
        ]
    )
    func durations(text: String, expected: Duration) throws {
        #expect(try GoDuration.parse(text) == expected)
    }

    @Test("not durations", arguments: ["", "10", "s", "10x", "1.5.5s", "ten seconds", "-"])
    func badDurations(text: String) {
        #expect(throws: GoDuration.ParseError.self) { try GoDuration.parse(text) }
    }

    @Test("listen addresses")
    func listenAddresses() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:8443", flag: "f") == ListenAddress(host: "127.0.0.1", port: 8443))
        #expect(try ListenAddress(parsing: ":8443", flag: "f") == ListenAddress(host: "0.0.0.0", port: 8443))
        #expect(try ListenAddress(parsing: "[::1]:0", flag: "f") == ListenAddress(host: "::1", port: 0))
        #expect(throws: ConfigurationError.self) { try ListenAddress(parsing: "localhost", flag: "f") }
        #expect(throws: ConfigurationError.self) { try ListenAddress(parsing: "localhost:http", flag: "f") }
        #expect(throws: ConfigurationError.self) { try ListenAddress(parsing: "localhost:70000", flag: "f") }
    }

    @Test("upstream URLs and how request targets join onto them")
    func upstream() throws {
        let plain = try UpstreamTarget(parsing: "http://127.0.0.1:8081/")
        #expect(plain == UpstreamTarget(host: "127.0.0.1", port: 8081, basePath: "/"))
        let heap = try RequestTarget(parsing: "/debug/pprof/heap?debug=1")
        #expect(plain.requestTarget(for: heap) == "/debug/pprof/heap?debug=1")
        #expect(try UpstreamTarget(parsing: "http://127.0.0.1:8081").requestTarget(for: heap) == "/debug/pprof/heap?debug=1")
        let prefixed = try UpstreamTarget(parsing: "http://localhost/prefix?token=x")
        #expect(prefixed == UpstreamTarget(host: "localhost", port: 80, basePath: "/prefix", baseQuery: "token=x"))
        #expect(prefixed.requestTarget(for: heap) == "/prefix/debug/pprof/heap?token=x&debug=1")
        #expect(try UpstreamTarget(parsing: "http://[::1]:9/").host == "::1")
        #expect(plain.requestTarget(for: try RequestTarget(parsing: "/debug/pprof/symbol?")) == "/debug/pprof/symbol?")
        for bad in ["ftp://127.0.0.1:8081/", "127.0.0.1:8081", "http://:80/", "http://host:0/", "http://host:x/"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try UpstreamTarget(parsing: bad) }
        }
    }
}
