/// A path glob with the syntax and semantics of Go's `path.Match`, as kube-rbac-proxy uses for
/// `--allow-paths`, `--ignore-paths` and static rules: `*` matches any run of non-`/` characters,
/// `?` one non-`/` character, `[...]` a character class (`^` negates, `a-z` ranges), `\` escapes.
package struct PathPattern: Sendable, Hashable, CustomStringConvertible {
    package let description: String
    private let pattern: [Unicode.Scalar]

    /// Compiles a pattern, rejecting the ones Go reports as `ErrBadPattern`.
    package init(_ pattern: String) throws(PathPatternError) {
        self.description = pattern
        self.pattern = Array(pattern.unicodeScalars)
        try Self.validate(self.pattern[...])
    }

    /// Whether the whole of `name` matches the pattern.
    package func matches(_ name: String) -> Bool {
        Self.match(pattern[...], Array(name.unicodeScalars)[...])
    }

    private typealias Scalars = ArraySlice<Unicode.Scalar>

    private static func validate(_ pattern: Scalars) throws(PathPatternError) {
        var rest = pattern
        while !rest.isEmpty {
            let (_, chunk, remainder) = scanChunk(rest)
            rest = remainder
            if case .badPattern = matchChunk(chunk, [][...]) {
                throw PathPatternError(pattern: String(String.UnicodeScalarView(pattern)))
            }
        }
    }

    private static func match(_ pattern: Scalars, _ name: Scalars) -> Bool {
        var pattern = pattern
        var name = name
        nextChunk: while !pattern.isEmpty {
            let (star, chunk, rest) = scanChunk(pattern)
            pattern = rest
            if star && chunk.isEmpty {
                return !name.contains("/")
            }
            if case .matched(let remainder) = matchChunk(chunk, name), remainder.isEmpty || !pattern.isEmpty {
                name = remainder
                continue
            }
            if star {
                var index = name.startIndex
                while index < name.endIndex && name[index] != "/" {
                    index = name.index(after: index)
                    if case .matched(let remainder) = matchChunk(chunk, name[index...]) {
                        if pattern.isEmpty && !remainder.isEmpty { continue }
                        name = remainder
                        continue nextChunk
                    }
                }
            }
            return false
        }
        return name.isEmpty
    }

    /// Splits off the leading stars and the literal chunk up to the next star outside a class.
    private static func scanChunk(_ pattern: Scalars) -> (star: Bool, chunk: Scalars, rest: Scalars) {
        var pattern = pattern
        var star = false
        while pattern.first == "*" {
            pattern = pattern.dropFirst()
            star = true
        }
        var inRange = false
        var index = pattern.startIndex
        scan: while index < pattern.endIndex {
            switch pattern[index] {
            case "\\":
                if pattern.index(after: index) < pattern.endIndex {
                    index = pattern.index(after: index)
                }
            case "[":
                inRange = true
            case "]":
                inRange = false
            case "*" where !inRange:
                break scan
            default:
                break
            }
            index = pattern.index(after: index)
        }
        return (star, pattern[..<index], pattern[index...])
    }

    private enum ChunkMatch {
        case matched(remainder: Scalars)
        case failed
        case badPattern
    }

    /// Matches one chunk at the start of `name`; keeps parsing after a failure so that syntax errors
    /// anywhere in the chunk are reported, as Go does.
    private static func matchChunk(_ chunk: Scalars, _ name: Scalars) -> ChunkMatch {
        var chunk = chunk
        var name = name
        var failed = false
        while let first = chunk.first {
            if !failed && name.isEmpty {
                failed = true
            }
            switch first {
            case "[":
                let scalar = failed ? nil : name.popFirst()
                chunk = chunk.dropFirst()
                let negated = chunk.first == "^"
                if negated { chunk = chunk.dropFirst() }
                var matched = false
                var ranges = 0
                while true {
                    if chunk.first == "]" && ranges > 0 {
                        chunk = chunk.dropFirst()
                        break
                    }
                    guard let low = escapedScalar(&chunk) else { return .badPattern }
                    var high = low
                    if chunk.first == "-" {
                        chunk = chunk.dropFirst()
                        guard let rangeEnd = escapedScalar(&chunk) else { return .badPattern }
                        high = rangeEnd
                    }
                    if let scalar, low <= scalar && scalar <= high {
                        matched = true
                    }
                    ranges += 1
                }
                if matched == negated {
                    failed = true
                }
            case "?":
                if !failed {
                    if name.popFirst() == "/" { failed = true }
                }
                chunk = chunk.dropFirst()
            case "\\":
                chunk = chunk.dropFirst()
                guard let literal = chunk.first else { return .badPattern }
                if !failed && name.popFirst() != literal { failed = true }
                chunk = chunk.dropFirst()
            default:
                if !failed && name.popFirst() != first { failed = true }
                chunk = chunk.dropFirst()
            }
        }
        return failed ? .failed : .matched(remainder: name)
    }

    /// Reads one possibly escaped character of a class; nil where Go reports `ErrBadPattern`.
    private static func escapedScalar(_ chunk: inout Scalars) -> Unicode.Scalar? {
        guard let first = chunk.first, first != "-", first != "]" else { return nil }
        chunk = chunk.dropFirst()
        var scalar = first
        if first == "\\" {
            guard let escaped = chunk.popFirst() else { return nil }
            scalar = escaped
        }
        guard !chunk.isEmpty else { return nil }
        return scalar
    }
}

/// A path pattern that Go's `path.Match` would reject.
package struct PathPatternError: Error, Sendable, Hashable, CustomStringConvertible {
    package let pattern: String

    package var description: String { "invalid path pattern \"\(pattern)\"" }
}
