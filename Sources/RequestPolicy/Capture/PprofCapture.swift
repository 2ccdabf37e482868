/// What a pprof request captures over time, read from its path and `seconds` exactly as
/// net/http/pprof reads them.
package enum PprofCapture: Sendable, Hashable {
    /// A CPU profile (`/debug/pprof/profile`): the process-wide profiler, one at a time.
    case cpuProfile(seconds: Int64)
    /// An execution trace (`/debug/pprof/trace`): the process-wide tracer, one at a time.
    case trace(seconds: Double)
    /// A delta profile (`seconds` on heap, allocs, goroutine, block, mutex, threadcreate): waits,
    /// but does not hold anything exclusive.
    case delta(profile: String, seconds: Int64)

    /// The named profiles net/http/pprof serves as deltas when `seconds` is given.
    package static let deltaProfiles: Set<String> = ["heap", "allocs", "goroutine", "block", "mutex", "threadcreate"]

    /// The capture a request asks for, or nil when it asks for none (or one Go refuses by itself,
    /// such as a delta with an invalid `seconds`). `path` is normalized; `rawQuery` as received.
    package init?(path: String, rawQuery: String?) {
        guard let name = Self.profileName(path) else { return nil }
        // `Request.FormValue`: the first value of the query (bodies are refused on these endpoints).
        let seconds = rawQuery.flatMap { URLQuery(parsing: $0).values(for: "seconds").first }
        switch name {
        case "profile":
            // `ParseInt`; invalid or not positive means 30.
            if case .value(let parsed) = GoNumberParsing.parseInt(seconds ?? ""), parsed > 0 {
                self = .cpuProfile(seconds: parsed)
            } else {
                self = .cpuProfile(seconds: 30)
            }
        case "trace":
            // `ParseFloat`; invalid or not positive means 1 (NaN is neither, and stays NaN).
            if case .value(let parsed) = GoNumberParsing.parseFloat(seconds ?? ""), !(parsed <= 0) {
                self = .trace(seconds: parsed)
            } else {
                self = .trace(seconds: 1)
            }
        case _ where Self.deltaProfiles.contains(name):
            // A non-empty `seconds` makes a delta; Go answers 400 itself unless it is a positive integer.
            guard let seconds, !seconds.isEmpty,
                case .value(let parsed) = GoNumberParsing.parseInt(seconds), parsed > 0
            else { return nil }
            self = .delta(profile: name, seconds: parsed)
        default:
            return nil
        }
    }

    /// Whether this path could start a capture at all (for any `seconds`): only GET and HEAD may
    /// reach it, because the form body of other methods would override the query.
    package static func isCaptureEndpoint(_ path: String) -> Bool {
        guard let name = profileName(path) else { return false }
        return name == "profile" || name == "trace" || deltaProfiles.contains(name)
    }

    /// The name after `/debug/pprof/`, the prefix compared byte for byte as Go does; nil for other paths.
    private static func profileName(_ path: String) -> String? {
        let prefix = "/debug/pprof/".utf8
        guard path.utf8.starts(with: prefix) else { return nil }
        return String(Substring(path.utf8.dropFirst(prefix.count)))
    }

    /// How long the capture runs, in seconds (NaN for a trace Go cannot bound).
    package var seconds: Double {
        switch self {
        case .cpuProfile(let seconds), .delta(_, let seconds): Double(seconds)
        case .trace(let seconds): seconds
        }
    }

    /// `seconds` as the client should read it in an error message.
    package var secondsDescription: String {
        switch self {
        case .cpuProfile(let seconds), .delta(_, let seconds): String(seconds)
        case .trace(let seconds): seconds.isNaN ? "NaN" : String(seconds)
        }
    }
}
