/// Which normalized paths the proxy serves at all; everything else is 404 before authentication.
public struct PathPolicy: Sendable {
    /// The pprof index and every pprof endpoint, as RBAC grants them with `nonResourceURLs`.
    public static let defaultAllowPatterns = ["/debug/pprof", "/debug/pprof/*"]

    public let allowed: [PathPattern]

    public init(allowed: [PathPattern]) {
        self.allowed = allowed
    }

    /// The default policy: only `/debug/pprof` and `/debug/pprof/*`.
    public static func pprofOnly() -> PathPolicy {
        PathPolicy(allowed: defaultAllowPatterns.compactMap { try? PathPattern($0) })
    }

    public func allows(_ path: String) -> Bool {
        allowed.contains { $0.matches(path) }
    }
}
