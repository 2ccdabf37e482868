/// An RBAC-like grant in the fake API server's `-rules` file (nonResourceURLs semantics).
struct FakeAPIServerRule: Encodable, Sendable {
    var user: String = ""
    var group: String = ""
    var paths: [String]
    var verbs: [String]

    /// The grant the tests assume: alice may `get` the pprof paths, nobody else anything.
    static let aliceReadsPprof = FakeAPIServerRule(user: "alice", paths: ["/debug/pprof", "/debug/pprof/*"], verbs: ["get"])

    /// alice may also `get` the proxy's `/metrics`.
    static let aliceReadsMetrics = FakeAPIServerRule(user: "alice", paths: ["/metrics"], verbs: ["get"])

    /// alice may also `post` symbol lookups.
    static let alicePostsSymbol = FakeAPIServerRule(user: "alice", paths: ["/debug/pprof/symbol"], verbs: ["post"])
}
