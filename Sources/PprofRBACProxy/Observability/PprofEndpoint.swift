import RequestPolicy

/// The `endpoint` label of a request's metrics: a fixed set of names, so that no client can make
/// the number of series grow.
enum PprofEndpoint {
    /// The endpoints net/http/pprof serves by name (its handlers and runtime/pprof's built-in profiles).
    static let names: Set<String> = [
        "allocs", "block", "cmdline", "goroutine", "heap", "mutex", "profile", "symbol", "threadcreate", "trace",
    ]

    /// `index` for `/debug/pprof` and `/debug/pprof/`, the name for `/debug/pprof/<name>` when it is one of
    /// `names`, `other` for everything else. `path` is the path as sent; it is normalized first.
    static func label(forPath path: String) -> String {
        guard let normalized = try? RequestTarget(parsing: path).path else { return "other" }
        return label(forNormalizedPath: normalized)
    }

    /// The label for a path that is already normalized (a forwarded request's `RequestTarget.path`).
    static func label(forNormalizedPath normalized: String) -> String {
        let prefix = "/debug/pprof/"
        if normalized == "/debug/pprof" || normalized == prefix {
            return "index"
        }
        guard normalized.hasPrefix(prefix) else { return "other" }
        let name = String(normalized.dropFirst(prefix.count))
        return names.contains(name) ? name : "other"
    }
}
