/// A `/metrics` body parsed as the Prometheus text format (0.0.4): `# HELP` and `# TYPE` lines and
/// `name{label="value",...} value` samples. Parsing fails on any line that is neither, on a sample
/// whose family has no `# TYPE`, and on a value that is not a number.
struct PrometheusText: Sendable {
    /// One sample line.
    struct Sample: Sendable, Equatable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// Metric family name → its declared type.
    private(set) var types: [String: String] = [:]
    private(set) var samples: [Sample] = []

    init(parsing text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, Self.isMetricName(parts[2]),
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3])
                else { throw EndToEndError("bad TYPE line: \(line)") }
                types[String(parts[2])] = String(parts[3])
            } else if line.hasPrefix("# HELP ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 3, Self.isMetricName(parts[2]) else { throw EndToEndError("bad HELP line: \(line)") }
            } else if line.hasPrefix("#") {
                continue
            } else {
                let sample = try Self.sample(line)
                guard types[Self.family(of: sample.name)] != nil else {
                    throw EndToEndError("sample without a preceding # TYPE: \(line)")
                }
                samples.append(sample)
            }
        }
    }

    /// The value of the sample `name` whose labels are exactly `labels`; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// `value`, with an absent sample counting as 0 (a counter not yet incremented).
    func count(_ name: String, _ labels: [String: String] = [:]) -> Double {
        value(name, labels) ?? 0
    }

    /// The family a sample belongs to: histogram and summary samples carry a suffix.
    private static func family(of name: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    private static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == ":" }
    }

    /// `name value` or `name{a="x",b="y"} value`, label values with `\\`, `\"` and `\n` escapes.
    private static func sample(_ line: Substring) throws -> Sample {
        let malformed = EndToEndError("bad sample line: \(line)")
        var rest = line[...]
        let name = rest.prefix { $0 != "{" && $0 != " " }
        guard isMetricName(name) else { throw malformed }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let key = rest.prefix { $0 != "=" }
                guard isMetricName(key), rest.dropFirst(key.count).hasPrefix("=\"") else { throw malformed }
                rest = rest.dropFirst(key.count + 2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first else { throw malformed }
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw malformed }
                rest = rest.dropFirst()
                labels[String(key)] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { throw malformed }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw malformed }
        let fields = rest.dropFirst().split(separator: " ")
        guard (1...2).contains(fields.count), let value = Double(fields[0]) ?? Self.special(fields[0]) else { throw malformed }
        return Sample(name: String(name), labels: labels, value: value)
    }

    private static func special(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: nil
        }
    }
}
