/// Which normalized paths the proxy serves, and which of them skip authentication
/// (`--allow-paths`, `--ignore-paths`).
package struct PathPolicy: Sendable {
    /// The pprof index and every pprof endpoint, as RBAC grants them with `nonResourceURLs`.
    package static let defaultAllowPatterns = ["/debug/pprof", "/debug/pprof/*"]

    /// What happens to a request for a path.
    package enum Decision: Sendable, Hashable {
        /// Authenticate and authorize, then forward.
        case authorize
        /// Forward without authentication or authorization (`--ignore-paths`).
        case ignore
        /// 404, before anything else.
        case notFound
    }

    package let allowed: [PathPattern]
    package let ignored: [PathPattern]

    package init(allowed: [PathPattern], ignored: [PathPattern] = []) {
        self.allowed = allowed
        self.ignored = ignored
    }

    /// The default policy: only `/debug/pprof` and `/debug/pprof/*`.
    package static func pprofOnly() -> PathPolicy {
        PathPolicy(allowed: defaultAllowPatterns.compactMap { try? PathPattern($0) })
    }

    /// Ignored paths are forwarded as they are; the rest must be allowed.
    package func decision(for path: String) -> Decision {
        if ignored.contains(where: { $0.matches(path) }) { return .ignore }
        return allowed.contains(where: { $0.matches(path) }) ? .authorize : .notFound
    }
}
