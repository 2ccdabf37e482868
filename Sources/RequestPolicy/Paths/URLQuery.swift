/// A raw query string read the way Go's `url.ParseQuery` reads it: pairs split on `&`; a pair
/// containing `;` or an undecodable escape is skipped; keys and values are unescaped with `+` as a space.
/// Bytes, not characters, are split and compared, as in Go: `&` followed by a combining mark still
/// separates two pairs.
package struct URLQuery: Sendable {
    /// The decoded pairs in the order they appear.
    package let pairs: [(key: String, value: String)]

    package init(parsing rawQuery: String) {
        var pairs: [(key: String, value: String)] = []
        for piece in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            guard !piece.contains(UInt8(ascii: ";")) else { continue }
            let rawKey: Substring
            let rawValue: Substring
            if let equals = piece.firstIndex(of: UInt8(ascii: "=")) {
                rawKey = Substring(piece[..<equals])
                rawValue = Substring(piece[piece.index(after: equals)...])
            } else {
                rawKey = Substring(piece)
                rawValue = ""
            }
            guard let key = Self.unescape(rawKey), let value = Self.unescape(rawValue) else { continue }
            pairs.append((key, value))
        }
        self.pairs = pairs
    }

    /// Every value of `key` (matched byte for byte), in order; empty values included.
    package func values(for key: String) -> [String] {
        pairs.filter { $0.key.utf8.elementsEqual(key.utf8) }.map(\.value)
    }

    /// Go's `url.QueryUnescape`: `%XX` decoded, `+` as a space; nil for a malformed escape.
    static func unescape(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var index = text.utf8.startIndex
        let end = text.utf8.endIndex
        while index < end {
            let byte = text.utf8[index]
            switch byte {
            case UInt8(ascii: "%"):
                let high = text.utf8.index(after: index)
                guard high < end, let highValue = PercentEncoding.hexValue(text.utf8[high]) else { return nil }
                let low = text.utf8.index(after: high)
                guard low < end, let lowValue = PercentEncoding.hexValue(text.utf8[low]) else { return nil }
                bytes.append(highValue << 4 | lowValue)
                index = text.utf8.index(after: low)
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
                index = text.utf8.index(after: index)
            default:
                bytes.append(byte)
                index = text.utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
