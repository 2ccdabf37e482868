import RequestPolicy

/// One flag a command line accepts, described the way spf13/pflag describes it.
package struct FlagDefinition: Sendable {
    /// The Go type behind a flag: how its text is parsed and whether it needs a value.
    package enum Kind: Sendable, Hashable {
        /// `--flag` means true; `--flag=false` (Go's `strconv.ParseBool`); never the next argument.
        case bool
        case string
        /// Comma-separated (CSV quoting), repeatable; the first use replaces the default, later ones append.
        case stringSlice
        /// Repeatable, one value per use, no comma splitting.
        case stringArray
        /// Go `int`: decimal, or `0x`, `0o`, `0b` and leading-zero octal, `_` between digits.
        case int
        /// klog's `Level`: a decimal 32-bit integer.
        case level
        case uint32
        case uint64
        case float32
        /// Go `time.ParseDuration` syntax.
        case duration
        /// component-base's `--version`: `--version` alone means true; also `=false` and `=raw`.
        case version

        /// The type word pflag prints after the flag name in usage.
        var typeName: String {
            switch self {
            case .bool, .version: ""
            case .string: "string"
            case .stringSlice: "strings"
            case .stringArray: "stringArray"
            case .int: "int"
            case .level: "Level"
            case .uint32: "uint32"
            case .uint64: "uint64"
            case .float32: "float32"
            case .duration: "duration"
            }
        }

        /// The value a flag of this kind takes when it is given without one (pflag's `NoOptDefVal`).
        var valueWhenBare: String? {
            switch self {
            case .bool, .version: "true"
            default: nil
            }
        }
    }

    package let name: String
    /// The one-letter `-x` form, if any.
    package let shorthand: Character?
    package let kind: Kind
    package let defaultValue: FlagValue
    package let usage: String

    package init(_ name: String, shorthand: Character? = nil, kind: Kind, default defaultValue: FlagValue, usage: String) {
        self.name = name
        self.shorthand = shorthand
        self.kind = kind
        self.defaultValue = defaultValue
        self.usage = usage
    }
}

/// A flag's value after parsing, or its default.
package enum FlagValue: Sendable, Hashable {
    case bool(Bool)
    case string(String)
    case strings([String])
    case int(Int)
    case double(Double)
    case duration(Duration)
}

/// What a command line said: the flags that were given (with their final values) and the
/// positional arguments, in order.
package struct ParsedFlags: Sendable {
    /// Final values of the flags that were given, by name.
    package private(set) var givenValues: [String: FlagValue] = [:]
    /// The names of the flags that were given, in the order of their first use.
    package private(set) var givenNames: [String] = []
    package fileprivate(set) var positionalArguments: [String] = []

    fileprivate init() {}

    package func isGiven<Value>(_ flag: Flag<Value>) -> Bool {
        isGiven(flag.definition)
    }

    package func isGiven(_ definition: FlagDefinition) -> Bool {
        givenValues[definition.name] != nil
    }

    /// The given value, else the flag's default.
    package subscript<Value>(_ flag: Flag<Value>) -> Value {
        givenValues[flag.name].flatMap(Value.init(flagValue:)) ?? flag.defaultValue
    }

    /// The string, or nil when it is empty.
    package func nonEmpty(_ flag: Flag<String>) -> String? {
        let value = self[flag]
        return value.isEmpty ? nil : value
    }

    fileprivate mutating func set(_ definition: FlagDefinition, text: String) throws(ConfigurationError) {
        let parsed = try FlagSet.parseValue(text, kind: definition.kind, flag: "--\(definition.name)")
        let previous = givenValues[definition.name]
        if previous == nil { givenNames.append(definition.name) }
        switch (previous, parsed) {
        case (.strings(let earlier)?, .strings(let more)):
            givenValues[definition.name] = .strings(earlier + more)
        default:
            givenValues[definition.name] = parsed
        }
    }
}

/// A command-line parser with the rules of spf13/pflag (as kube-rbac-proxy and every Kubernetes
/// component use it): `--flag=value` and `--flag value`; boolean flags as `--flag` or `--flag=false`
/// but never `--flag false`; one-letter shorthands (`-v=3`, `-v 3`, `-v3`); flags and positional
/// arguments interspersed; `--` ends the flags; `_` in a flag name is read as `-`.
package struct FlagSet: Sendable {
    package let definitions: [FlagDefinition]
    private let byName: [String: FlagDefinition]
    private let byShorthand: [Character: FlagDefinition]

    package init(_ definitions: [FlagDefinition]) {
        self.definitions = definitions
        self.byName = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.byShorthand = Dictionary(
            definitions.compactMap { definition in definition.shorthand.map { ($0, definition) } },
            uniquingKeysWith: { first, _ in first }
        )
    }

    package func definition(named name: String) -> FlagDefinition? {
        byName[name]
    }

    /// Parses the arguments (without the program name). Fails on the first unknown flag, missing
    /// value or value that does not parse; positional arguments are collected, not refused.
    package func parse(_ arguments: [String]) throws(ConfigurationError) -> ParsedFlags {
        var parsed = ParsedFlags()
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "--" {
                parsed.positionalArguments += remaining
                break
            }
            if argument.hasPrefix("--") {
                try parseLong(argument, remaining: &remaining, into: &parsed)
            } else if argument.hasPrefix("-") && argument.count > 1 {
                try parseShorthands(argument, remaining: &remaining, into: &parsed)
            } else {
                parsed.positionalArguments.append(argument)
            }
        }
        return parsed
    }

    private func parseLong(
        _ argument: String, remaining: inout ArraySlice<String>, into parsed: inout ParsedFlags
    ) throws(ConfigurationError) {
        let body = argument.dropFirst(2)
        guard let first = body.first, first != "-", first != "=" else { throw .badFlagSyntax(argument) }
        let writtenName: Substring
        let inlineValue: String?
        if let equals = body.firstIndex(of: "=") {
            writtenName = body[..<equals]
            inlineValue = String(body[body.index(after: equals)...])
        } else {
            writtenName = body
            inlineValue = nil
        }
        let name = String(writtenName.map { $0 == "_" ? "-" : $0 })
        guard let definition = byName[name] else { throw .unknownFlag("--\(writtenName)") }
        if let inlineValue {
            try parsed.set(definition, text: inlineValue)
        } else if let bare = definition.kind.valueWhenBare {
            try parsed.set(definition, text: bare)
        } else if let next = remaining.popFirst() {
            try parsed.set(definition, text: next)
        } else {
            throw .flagNeedsArgument("--\(writtenName)")
        }
    }

    /// `-abc` is `-a -b -c` while the flags are boolean; a flag that takes a value takes the rest
    /// (`-v3`, `-v=3`) or the next argument (`-v 3`).
    private func parseShorthands(
        _ argument: String, remaining: inout ArraySlice<String>, into parsed: inout ParsedFlags
    ) throws(ConfigurationError) {
        var shorthands = argument.dropFirst()
        while let letter = shorthands.first {
            guard let definition = byShorthand[letter] else {
                throw .unknownShorthandFlag(letter, in: argument)
            }
            let rest = shorthands.dropFirst()
            if rest.count > 1 && rest.first == "=" {
                try parsed.set(definition, text: String(rest.dropFirst()))
                return
            } else if let bare = definition.kind.valueWhenBare {
                try parsed.set(definition, text: bare)
                shorthands = rest
            } else if !rest.isEmpty {
                try parsed.set(definition, text: String(rest))
                return
            } else if let next = remaining.popFirst() {
                try parsed.set(definition, text: next)
                return
            } else {
                throw .flagNeedsArgument("-\(letter)")
            }
        }
    }

    /// Parses one value as pflag's `Value.Set` for the kind would.
    static func parseValue(_ text: String, kind: FlagDefinition.Kind, flag: String) throws(ConfigurationError) -> FlagValue {
        func invalid(_ reason: String) -> ConfigurationError {
            .invalidFlag(flag: flag, value: text, reason: reason)
        }
        switch kind {
        case .bool:
            guard let value = GoSyntax.parseBool(text) else { throw invalid("not a boolean (use true or false)") }
            return .bool(value)
        case .version:
            if text == "raw" { return .string("raw") }
            guard let value = GoSyntax.parseBool(text) else { throw invalid("use true, false or raw") }
            return .string(value ? "true" : "false")
        case .string:
            return .string(text)
        case .stringArray:
            return .strings([text])
        case .stringSlice:
            guard !text.isEmpty else { return .strings([]) }
            do {
                return .strings(try CSVRecords.parse(text).first ?? [])
            } catch {
                throw invalid(error.reason)
            }
        case .int:
            guard let value = GoSyntax.parseInt(text) else { throw invalid("not an integer") }
            return .int(value)
        case .level:
            guard let value = Int32(text) else { throw invalid("not a decimal integer") }
            return .int(Int(value))
        case .uint32:
            guard let value = GoSyntax.parseInt(text), value >= 0, value <= Int(UInt32.max) else {
                throw invalid("not an integer between 0 and \(UInt32.max)")
            }
            return .int(value)
        case .uint64:
            guard let value = GoSyntax.parseInt(text), value >= 0 else { throw invalid("not a non-negative integer") }
            return .int(value)
        case .float32:
            guard let value = Double(text), value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else {
                throw invalid("not a number")
            }
            return .double(value)
        case .duration:
            do {
                return .duration(try GoDuration.parse(text))
            } catch {
                throw invalid(error.description)
            }
        }
    }

    /// Usage in pflag's notation (`  -v, --v Level`), each flag's meaning and default on the lines
    /// below it, wrapped to `width` columns.
    package static func usage(of definitions: [FlagDefinition], width: Int = 100) -> String {
        definitions.map { definition in
            var head = definition.shorthand.map { "  -\($0), " } ?? "      "
            head += "--\(definition.name)"
            if !definition.kind.typeName.isEmpty {
                head += " \(definition.kind.typeName)"
            }
            let words = definition.usage.split(separator: " ").map(String.init) + ["(default \(defaultText(definition)))"]
            return head + "\n" + wrapped(words, indent: "          ", width: width)
        }.joined()
    }

    /// The words joined by spaces into lines of at most `width` columns, each starting with `indent`.
    static func wrapped(_ words: [String], indent: String, width: Int) -> String {
        var lines: [String] = []
        var line = ""
        for word in words {
            if !line.isEmpty && indent.count + line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? word : " " + word
        }
        lines.append(line)
        return lines.map { indent + $0 + "\n" }.joined()
    }

    /// The default as pflag prints it: strings quoted, lists in brackets, durations in Go syntax.
    static func defaultText(_ definition: FlagDefinition) -> String {
        switch definition.defaultValue {
        case .bool(let value): String(value)
        case .string(let value): definition.kind == .version ? value : "\"\(value)\""
        case .strings(let values): "[" + values.joined(separator: ",") + "]"
        case .int(let value): String(value)
        case .double(let value): value == value.rounded() ? String(Int(value)) : String(value)
        case .duration(let value): GoDuration.format(value)
        }
    }
}

/// Go's `strconv` rules for the flag values that need them.
enum GoSyntax {
    /// `strconv.ParseBool`: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// `strconv.ParseInt(text, 0, 64)`: an optional sign, then decimal, `0x` hex, `0o` or leading-zero
    /// octal, or `0b` binary, with `_` allowed between digits.
    static func parseInt(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        var radix = 10
        var hasPrefix = false
        let lowered = digits.lowercased()
        if lowered.hasPrefix("0x") || lowered.hasPrefix("0o") || lowered.hasPrefix("0b") {
            radix = lowered.hasPrefix("0x") ? 16 : lowered.hasPrefix("0o") ? 8 : 2
            digits = digits.dropFirst(2)
            hasPrefix = true
        } else if digits.count > 1 && digits.first == "0" {
            radix = 8
            digits = digits.dropFirst()
            hasPrefix = true
        }
        if digits.contains("_") {
            guard !digits.hasSuffix("_"), !digits.contains("__"), hasPrefix || !digits.hasPrefix("_") else { return nil }
            digits = Substring(String(digits.filter { $0 != "_" }))
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }),
            let magnitude = UInt64(digits, radix: radix)
        else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { return nil }
        return Int(magnitude)
    }
}
