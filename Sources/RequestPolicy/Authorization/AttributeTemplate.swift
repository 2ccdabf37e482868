/// One `authorization.resourceAttributes` field: text in which every `{{ .Value }}` (Go
/// text/template syntax, any spacing inside the braces) stands for a value a rewrite collected.
package struct AttributeTemplate: Sendable, Hashable, CustomStringConvertible {
    /// A run of literal text, or the place of the value.
    private enum Part: Sendable, Hashable {
        case text(String)
        case value
    }

    /// The field as written in the config file.
    package let description: String
    private let parts: [Part]

    /// Parses a field; anything inside `{{ }}` other than `.Value` is refused, since only that
    /// substitution is supported.
    package init(parsing text: String) throws(AttributeTemplateError) {
        description = text
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex {
                parts.append(.text(String(rest[..<open.lowerBound])))
            }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.firstRange(of: "}}") else { throw AttributeTemplateError(text: text) }
            let action = afterOpen[..<close.lowerBound].trimmingGoSpace()
            guard action == ".Value" else { throw AttributeTemplateError(text: text) }
            parts.append(.value)
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty {
            parts.append(.text(String(rest)))
        }
        self.parts = parts
    }

    /// The empty field.
    package static let empty = AttributeTemplate(text: "", parts: [])

    private init(text: String, parts: [Part]) {
        self.description = text
        self.parts = parts
    }

    /// Whether the field mentions `{{ .Value }}` at all.
    package var usesValue: Bool {
        parts.contains(.value)
    }

    /// The field with `value` in place of every `{{ .Value }}`.
    package func rendered(value: String) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .value: value
            }
        }.joined()
    }
}

/// A resource-attributes field with a template other than `{{ .Value }}`.
package struct AttributeTemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    package let text: String

    package var description: String {
        "\"\(text)\" is not supported: the only template allowed is {{ .Value }}"
    }
}

extension Substring {
    /// Without the spaces, tabs and line breaks Go's template lexer skips inside an action.
    fileprivate func trimmingGoSpace() -> Substring {
        let isSpace: (Character) -> Bool = { [" ", "\t", "\n", "\r", "\r\n"].contains($0) }
        var trimmed = self
        while let first = trimmed.first, isSpace(first) { trimmed.removeFirst() }
        while let last = trimmed.last, isSpace(last) { trimmed.removeLast() }
        return trimmed
    }
}
