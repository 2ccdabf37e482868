/// Go's `strconv.ParseInt(s, 10, 64)` and `strconv.ParseFloat(s, 64)`, as net/http/pprof reads
/// `seconds`: the proxy must read a value exactly as the upstream will, or its cap could be bypassed.
package enum GoNumberParsing {
    /// The result of parsing: a value, or Go's error (syntax or range).
    package enum Parsed<Value: Equatable>: Equatable {
        case value(Value)
        case invalid
    }

    /// `strconv.ParseInt(text, 10, 64)`: optional sign, then decimal digits only; out of range is an error.
    package static func parseInt(_ text: String) -> Parsed<Int64> {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return .invalid }
        guard let magnitude = Int64(negative ? "-" + digits : String(digits)) else { return .invalid }
        return .value(magnitude)
    }

    /// `strconv.ParseFloat(text, 64)`: Go's float literal syntax (decimal with optional exponent,
    /// hexadecimal with a mandatory `p` exponent, underscores between digits, `inf`, `infinity`,
    /// `nan` in any case, an optional sign). A finite literal too large for a Double is Go's range
    /// error.
    package static func parseFloat(_ text: String) -> Parsed<Double> {
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        switch body.lowercased() {
        case "inf", "infinity": return .value(negative ? -.infinity : .infinity)
        case "nan": return .value(.nan)
        default: break
        }
        guard isFloatLiteral(body), underscoresSeparateDigits(text) else { return .invalid }
        let cleaned = (negative ? "-" : "") + body.filter { $0 != "_" }
        guard let value = Double(cleaned) else { return .invalid }
        return value.isInfinite ? .invalid : .value(value)
    }

    /// Whether `body` (no sign) is a decimal or hexadecimal float literal, underscores allowed.
    private static func isFloatLiteral(_ body: Substring) -> Bool {
        let characters = Array(body)
        var index = 0
        let hexadecimal = characters.count >= 2 && characters[0] == "0" && (characters[1] == "x" || characters[1] == "X")
        if hexadecimal { index = 2 }
        func isDigit(_ character: Character) -> Bool {
            hexadecimal ? character.isHexDigit : (character.isASCII && character.isNumber)
        }
        var mantissaDigits = 0
        var sawDot = false
        while index < characters.count {
            let character = characters[index]
            if isDigit(character) {
                mantissaDigits += 1
            } else if character == "." && !sawDot {
                sawDot = true
            } else if character != "_" {
                break
            }
            index += 1
        }
        guard mantissaDigits > 0 else { return false }
        let exponentMarkers: Set<Character> = hexadecimal ? ["p", "P"] : ["e", "E"]
        guard index < characters.count else { return !hexadecimal }
        guard exponentMarkers.contains(characters[index]) else { return false }
        index += 1
        if index < characters.count, characters[index] == "+" || characters[index] == "-" {
            index += 1
        }
        var exponentDigits = 0
        while index < characters.count, characters[index].isASCII && (characters[index].isNumber || characters[index] == "_") {
            if characters[index] != "_" { exponentDigits += 1 }
            index += 1
        }
        return exponentDigits > 0 && index == characters.count
    }

    /// Go's `underscoreOK`: an underscore must sit between digits (or after a base prefix).
    private static func underscoresSeparateDigits(_ text: String) -> Bool {
        guard text.utf8.contains(UInt8(ascii: "_")) else { return true }
        var characters = Substring(text)
        if let sign = characters.first, sign == "+" || sign == "-" { characters = characters.dropFirst() }
        var lastWasDigit = false
        var lastWasUnderscore = false
        var hexadecimal = false
        if characters.count >= 2, characters.first == "0", let prefix = characters.dropFirst().first,
            "bBoOxX".contains(prefix)
        {
            hexadecimal = prefix == "x" || prefix == "X"
            characters = characters.dropFirst(2)
            lastWasDigit = true
        }
        for character in characters {
            if (character.isASCII && character.isNumber) || (hexadecimal && character.isHexDigit) {
                lastWasDigit = true
                lastWasUnderscore = false
            } else if character == "_" {
                guard lastWasDigit else { return false }
                lastWasDigit = false
                lastWasUnderscore = true
            } else {
                guard !lastWasUnderscore else { return false }
                lastWasDigit = false
            }
        }
        return !lastWasUnderscore
    }
}
