/// Why bytes are not a profile this module can merge, or why merging stopped. The text says what
/// was wrong, never what the bytes held.
package enum ProfileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not gzip, or a gzip stream that is cut off or corrupt.
    case notGzip(String)
    /// Not a valid `profile.proto` message.
    case malformed(String)
    /// Larger than the limit it is read or merged under.
    case tooLarge(String)
    /// Two profiles that do not merge (other sample or period types).
    case incompatible(String)

    package var description: String {
        switch self {
        case .notGzip(let detail): "not a gzip stream: \(detail)"
        case .malformed(let detail): "not a valid profile.proto: \(detail)"
        case .tooLarge(let detail): "too large: \(detail)"
        case .incompatible(let detail): "profiles that do not merge: \(detail)"
        }
    }
}
