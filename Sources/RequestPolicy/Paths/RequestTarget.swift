/// A request target split into its percent-decoded, normalized path and its raw query.
///
/// The normalized `path` is what is authorized, and `encodedPath` (the same path, re-encoded) is what
/// is forwarded, so authorization and execution can never disagree about which resource is meant.
package struct RequestTarget: Sendable, Hashable {
    /// The decoded path with dot segments and duplicate slashes removed, trailing slash kept.
    package var path: String
    /// The query exactly as received, without the leading `?`; nil when the target had no `?`.
    package var rawQuery: String?

    /// Parses an origin-form request target (`/path?query`), as found in an HTTP/1.1 request line or
    /// an HTTP/2 `:path`.
    package init(parsing target: String) throws(RequestTargetError) {
        var bytes = Substring(target).utf8[...]
        if let questionMark = bytes.firstIndex(of: UInt8(ascii: "?")) {
            self.rawQuery = String(Substring(target.utf8[target.utf8.index(after: questionMark)...]))
            bytes = bytes[..<questionMark]
        } else {
            self.rawQuery = nil
        }
        guard bytes.first == UInt8(ascii: "/") else { throw .notOriginForm }
        let decoded = try Self.percentDecode(bytes)
        guard let decodedPath = String(validating: decoded, as: UTF8.self) else { throw .invalidUTF8 }
        self.path = Self.clean(decodedPath)
    }

    /// The path percent-encoded for the request line sent upstream: every byte outside RFC 3986's
    /// `pchar` set and `/` is escaped, so the upstream decodes exactly `path`.
    package var encodedPath: String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(path.utf8.count)
        for byte in path.utf8 {
            if Self.isPathByteSafe(byte) {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(Self.hexDigits[Int(byte >> 4)])
                encoded.append(Self.hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// `encodedPath` followed by `?rawQuery` when there was a query.
    package var encodedTarget: String {
        guard let rawQuery else { return encodedPath }
        return encodedPath + "?" + rawQuery
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func percentDecode(_ bytes: Substring.UTF8View.SubSequence) throws(RequestTargetError) -> [UInt8] {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            var byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let high = bytes.index(after: index)
                guard high < bytes.endIndex, let highValue = PercentEncoding.hexValue(bytes[high]) else { throw .invalidPercentEncoding }
                let low = bytes.index(after: high)
                guard low < bytes.endIndex, let lowValue = PercentEncoding.hexValue(bytes[low]) else { throw .invalidPercentEncoding }
                byte = highValue << 4 | lowValue
                if byte == UInt8(ascii: "/") { throw .encodedSlash }
                index = bytes.index(after: low)
            } else {
                if byte == UInt8(ascii: "#") { throw .fragment }
                index = bytes.index(after: index)
            }
            if byte == 0 { throw .nulByte }
            if byte < 0x20 || byte == 0x7F { throw .controlCharacter }
            decoded.append(byte)
        }
        return decoded
    }

    private static func isPathByteSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"),
            UInt8(ascii: "@"), UInt8(ascii: "/"):
            true
        default:
            false
        }
    }

    /// Go's `ServeMux` path cleaning: `path.Clean`, then the trailing slash put back if there was one.
    /// Bytes, not characters, are split and compared, as in Go: a `/` followed by a combining mark
    /// still separates segments, so the upstream can never find a `..` the proxy did not resolve.
    static func clean(_ path: String) -> String {
        if isAlreadyClean(path) { return path }
        var segments: [Substring.UTF8View.SubSequence] = []
        for segment in Substring(path).utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if segment.elementsEqual(".".utf8) {
                continue
            } else if segment.elementsEqual("..".utf8) {
                _ = segments.popLast()
            } else {
                segments.append(segment)
            }
        }
        var cleaned: [UInt8] = [UInt8(ascii: "/")]
        for (index, segment) in segments.enumerated() {
            if index > 0 { cleaned.append(UInt8(ascii: "/")) }
            cleaned.append(contentsOf: segment)
        }
        if path.utf8.last == UInt8(ascii: "/") && cleaned.count > 1 {
            cleaned.append(UInt8(ascii: "/"))
        }
        return String(decoding: cleaned, as: UTF8.self)
    }

    /// Whether `path` starts with `/` and has no empty, `.` or `..` segment (a trailing slash
    /// aside): then `clean` would return it unchanged, and most paths are like that.
    private static func isAlreadyClean(_ path: String) -> Bool {
        let bytes = path.utf8
        guard bytes.first == UInt8(ascii: "/") else { return false }
        var length = 0
        var dots = 0
        var index = bytes.index(after: bytes.startIndex)
        while true {
            let atEnd = index == bytes.endIndex
            if atEnd || bytes[index] == UInt8(ascii: "/") {
                if length == 0 && !atEnd { return false }
                if length > 0 && length <= 2 && dots == length { return false }
                if atEnd { return true }
                length = 0
                dots = 0
            } else {
                length += 1
                if bytes[index] == UInt8(ascii: ".") { dots += 1 }
            }
            index = bytes.index(after: index)
        }
    }
}

/// Why a request target cannot be served; each is answered with 400.
package enum RequestTargetError: Error, Sendable, Hashable, CustomStringConvertible {
    case notOriginForm
    case invalidPercentEncoding
    case encodedSlash
    case nulByte
    case controlCharacter
    case invalidUTF8
    case fragment

    package var description: String {
        switch self {
        case .notOriginForm: "the request target must be a path starting with /"
        case .invalidPercentEncoding: "the path contains an invalid percent-encoding"
        case .encodedSlash: "the path contains an encoded slash (%2F)"
        case .nulByte: "the path contains a NUL byte"
        case .controlCharacter: "the path contains a control character"
        case .invalidUTF8: "the path is not valid UTF-8"
        case .fragment: "the path contains a fragment (#)"
        }
    }
}
