import ArgumentParser

/// A profile `kubectl pprof` fetches: which pprof path serves it and how its file is named.
package enum ProfileKind: String, CaseIterable, Sendable, ExpressibleByArgument {
    case cpu, heap, allocs, goroutine, block, mutex, threadcreate, trace

    /// The path under the proxy.
    package var path: String {
        switch self {
        case .cpu: "/debug/pprof/profile"
        default: "/debug/pprof/\(rawValue)"
        }
    }

    /// A capture that runs for `seconds` (pprof's default when none is given): CPU profile and trace.
    package var defaultSeconds: Int? {
        switch self {
        case .cpu: 30
        case .trace: 1
        default: nil
        }
    }

    /// `.out` for an execution trace (read by `go tool trace`), `.pb.gz` for profiles; text for `--debug` above 0.
    package func fileExtension(debug: Int?) -> String {
        if let debug, debug > 0, self != .cpu, self != .trace { return ".txt" }
        return self == .trace ? ".out" : ".pb.gz"
    }
}
