/// Writes the protocol buffer wire format: varint and length-delimited fields, packed repeated
/// varints. Fields equal to their default (zero, empty) are left out, as proto3 encoders do.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    /// A varint field, unless `value` is zero.
    mutating func varintField(_ number: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        key(number, wireType: 0)
        varint(value)
    }

    /// A signed varint field (two's complement, as `int64` is encoded), unless `value` is zero.
    mutating func int64Field(_ number: UInt64, _ value: Int64) {
        varintField(number, UInt64(bitPattern: value))
    }

    /// A bool field, unless false.
    mutating func boolField(_ number: UInt64, _ value: Bool) {
        varintField(number, value ? 1 : 0)
    }

    /// A length-delimited field holding `payload`, written even when empty (repeated strings and
    /// messages keep their place).
    mutating func bytesField(_ number: UInt64, _ payload: [UInt8]) {
        key(number, wireType: 2)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    /// A message field, written by `body` into a writer of its own.
    mutating func messageField(_ number: UInt64, _ body: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        body(&nested)
        bytesField(number, nested.bytes)
    }

    /// A packed repeated varint field, unless `values` is empty.
    mutating func packedField(_ number: UInt64, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        var packed = ProtobufWriter()
        for value in values { packed.varint(value) }
        bytesField(number, packed.bytes)
    }

    private mutating func key(_ number: UInt64, wireType: UInt64) {
        varint(number << 3 | wireType)
    }

    private mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}
