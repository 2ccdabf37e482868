/// Where a CPU profile or trace request stands in the proxy's capture scheduler, as the proxy
/// tells a client that asks (`Pprof-Capture-Progress: 1`) in `102 Processing` answers before the
/// profile: `Pprof-Capture: queued; position=1`, `started`, `started; waited=4.2`, `joined`, or
/// `sliced; done=3; slices=10` for a CPU profile merged from slices.
package enum CaptureProgress: Sendable, Hashable {
    /// Waiting for the running capture of its kind to end; `position` 1 is next.
    case queued(position: Int)
    /// Its own capture went upstream, after waiting `waited` in the queue (nil: at once).
    case started(waited: Duration?)
    /// Shares an identical capture another request started moments ago.
    case joined
    /// Served from the proxy's CPU profile slices: `done` of its `of` slices are merged.
    case sliced(done: Int, of: Int)

    /// The request field a client sets to `1` to be told.
    package static let requestField = "pprof-capture-progress"
    /// The field of the `102 Processing` answers that carries the state.
    package static let responseField = "pprof-capture"

    /// Whether a request's `Pprof-Capture-Progress` values ask for the answers.
    package static func isRequested(by values: [String]) -> Bool {
        values.contains { trimmed($0) == "1" }
    }

    /// The field value: the state, then `; name=value` parameters.
    package var fieldValue: String {
        switch self {
        case .queued(let position): "queued; position=\(position)"
        case .started(nil): "started"
        case .started(let waited?): "started; waited=\(Self.tenths(waited))"
        case .joined: "joined"
        case .sliced(let done, let of): "sliced; done=\(done); slices=\(of)"
        }
    }

    /// Reads a field value; nil for anything it does not know, so a newer proxy's states are ignored.
    package init?(fieldValue: String) {
        let parts = fieldValue.split(separator: ";", omittingEmptySubsequences: false).map { Self.trimmed($0) }
        guard let state = parts.first else { return nil }
        var parameters: [String: String] = [:]
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { parameters[pair[0]] = pair[1] }
        }
        switch state {
        case "queued":
            guard let position = parameters["position"].flatMap({ Int($0) }), position > 0 else { return nil }
            self = .queued(position: position)
        case "started":
            let waited = parameters["waited"].flatMap { Double($0) }.map { Duration.milliseconds(Int(($0 * 1000).rounded())) }
            self = .started(waited: waited)
        case "joined":
            self = .joined
        case "sliced":
            guard let done = parameters["done"].flatMap({ Int($0) }), let of = parameters["slices"].flatMap({ Int($0) }),
                done >= 0, of > 0, done <= of
            else { return nil }
            self = .sliced(done: done, of: of)
        default:
            return nil
        }
    }

    /// `text` without the spaces and tabs around it (HTTP's optional whitespace).
    private static func trimmed(_ text: some StringProtocol) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(text[first...last])
    }

    /// Seconds with one decimal, as `4.2`.
    private static func tenths(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let tenths = max(0, seconds * 10 + (attoseconds + 50_000_000_000_000_000) / 100_000_000_000_000_000)
        return "\(tenths / 10).\(tenths % 10)"
    }
}
