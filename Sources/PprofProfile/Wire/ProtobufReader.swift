/// Reads the protocol buffer wire format from a range of bytes, checking every varint and length
/// against what is left. Nested messages are read by readers over sub-ranges of the same bytes.
struct ProtobufReader {
    /// How a field's value is encoded.
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    private let bytes: [UInt8]
    private var position: Int
    private let end: Int

    init(_ bytes: [UInt8]) {
        self.init(bytes, from: bytes.startIndex, to: bytes.endIndex)
    }

    private init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        self.position = start
        self.end = end
    }

    /// The next field's number and wire type, or nil at the end.
    mutating func nextField() throws(ProfileError) -> (number: UInt64, wireType: WireType)? {
        guard position < end else { return nil }
        let key = try varint()
        let number = key >> 3
        guard number > 0, let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw .malformed("field key \(key) has no valid field number and wire type")
        }
        return (number, wireType)
    }

    /// A varint.
    mutating func varint() throws(ProfileError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw .malformed("a varint runs past the end of its message") }
            let byte = bytes[position]
            position += 1
            guard shift < 63 || byte <= 1 else { throw .malformed("a varint is longer than 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A length-delimited value as a reader of its own.
    mutating func lengthDelimited() throws(ProfileError) -> ProtobufReader {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw .malformed("a length of \(length) runs past the end of its message") }
        let start = position
        position += Int(length)
        return ProtobufReader(bytes, from: start, to: position)
    }

    /// The bytes left in this reader.
    mutating func remainingBytes() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }

    /// Skips a value of `wireType` (a field this reader does not know).
    mutating func skip(_ wireType: WireType) throws(ProfileError) {
        switch wireType {
        case .varint: _ = try varint()
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        }
    }

    /// A scalar varint field of `wireType`, which must be `varint`.
    mutating func varint(as wireType: WireType) throws(ProfileError) -> UInt64 {
        guard wireType == .varint else { throw .malformed("a varint field has wire type \(wireType.rawValue)") }
        return try varint()
    }

    /// One or more values of a repeated varint field, packed or not, each given to `take`.
    mutating func repeatedVarints(
        _ wireType: WireType, _ take: (UInt64) throws(ProfileError) -> Void
    ) throws(ProfileError) {
        switch wireType {
        case .varint:
            try take(try varint())
        case .lengthDelimited:
            var packed = try lengthDelimited()
            while packed.position < packed.end {
                try take(try packed.varint())
            }
        default:
            throw .malformed("a repeated varint field has wire type \(wireType.rawValue)")
        }
    }

    private mutating func advance(_ count: Int) throws(ProfileError) {
        guard count <= end - position else { throw .malformed("a fixed-size value runs past the end of its message") }
        position += count
    }
}
