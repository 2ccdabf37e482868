/// Parses durations written the way Go's `time.ParseDuration` accepts them (`90s`, `2m`, `1h30m`, `500ms`).
public enum GoDuration {
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let text: String

        public var description: String { "not a duration (use Go syntax such as 30s, 2m or 1h30m)" }
    }

    private static let units: [(suffix: String, nanoseconds: Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    public static func parse(_ text: String) throws(ParseError) -> Duration {
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return .zero }
        guard !rest.isEmpty else { throw ParseError(text: text) }
        var nanoseconds = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { throw ParseError(text: text) }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.suffix == unitText }) else { throw ParseError(text: text) }
            rest = rest.dropFirst(unitText.count)
            nanoseconds += value * unit.nanoseconds
        }
        guard nanoseconds < Double(Int64.max) else { throw ParseError(text: text) }
        let duration = Duration.nanoseconds(Int64(nanoseconds))
        return negative ? .zero - duration : duration
    }
}
