/// One `authorization.static` entry of the proxy's config file (kube-rbac-proxy format).
struct StaticAuthorizationRule: Sendable {
    let user: String
    let verb: String
    let path: String

    /// alice may `get` anything under /debug/pprof/.
    static let aliceReadsPprof = StaticAuthorizationRule(user: "alice", verb: "get", path: "/debug/pprof/*")

    /// alice may use any method on /debug/pprof/ (so that guardrails, not RBAC, answer).
    static let aliceDoesAnything = StaticAuthorizationRule(user: "alice", verb: "\"\"", path: "/debug/pprof/*")
}
