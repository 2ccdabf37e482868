/// A flag declared once, with the Swift type its value is read as: `parsed[ProxyFlags.upstream]`.
package struct Flag<Value: FlagValueRepresentable>: Sendable {
    /// The type-erased description the parser and the usage text work from.
    package let definition: FlagDefinition
    package let defaultValue: Value

    package var name: String { definition.name }
    /// `--name`, as messages spell the flag.
    package var longForm: String { "--\(name)" }

    package init(_ name: String, shorthand: Character? = nil, kind: FlagDefinition.Kind, default defaultValue: Value, usage: String) {
        self.definition = FlagDefinition(name, shorthand: shorthand, kind: kind, default: defaultValue.flagValue, usage: usage)
        self.defaultValue = defaultValue
    }
}

/// A Swift type a parsed `FlagValue` is read as.
package protocol FlagValueRepresentable: Sendable {
    var flagValue: FlagValue { get }
    init?(flagValue: FlagValue)
}

extension Bool: FlagValueRepresentable {
    package var flagValue: FlagValue { .bool(self) }
    package init?(flagValue: FlagValue) {
        guard case .bool(let value) = flagValue else { return nil }
        self = value
    }
}

extension String: FlagValueRepresentable {
    package var flagValue: FlagValue { .string(self) }
    package init?(flagValue: FlagValue) {
        guard case .string(let value) = flagValue else { return nil }
        self = value
    }
}

extension Array: FlagValueRepresentable where Element == String {
    package var flagValue: FlagValue { .strings(self) }
    package init?(flagValue: FlagValue) {
        guard case .strings(let value) = flagValue else { return nil }
        self = value
    }
}

extension Int: FlagValueRepresentable {
    package var flagValue: FlagValue { .int(self) }
    package init?(flagValue: FlagValue) {
        guard case .int(let value) = flagValue else { return nil }
        self = value
    }
}

extension Double: FlagValueRepresentable {
    package var flagValue: FlagValue { .double(self) }
    package init?(flagValue: FlagValue) {
        guard case .double(let value) = flagValue else { return nil }
        self = value
    }
}

extension Duration: FlagValueRepresentable {
    package var flagValue: FlagValue { .duration(self) }
    package init?(flagValue: FlagValue) {
        guard case .duration(let value) = flagValue else { return nil }
        self = value
    }
}
