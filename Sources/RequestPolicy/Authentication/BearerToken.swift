#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads the bearer token of a request the way Kubernetes does (`Authorization: Bearer <token>`),
/// and, when allowed, from `Authorization: Basic base64(anything:<token>)` for `go tool pprof`.
package enum BearerToken {
    /// Longer tokens are refused without asking anyone: no real Kubernetes token comes near this.
    package static let maximumLength = 16 * 1024

    /// Why the `Authorization` headers cannot be read as credentials at all (answered with 400).
    package enum HeaderError: Error, Sendable, Hashable {
        case multipleAuthorizationHeaders
    }

    /// The token in the request's `Authorization` header values, or nil when there is none: no
    /// header, another scheme, an empty or oversized token, or, with `acceptingBasic`, a Basic header
    /// that is not base64 of UTF-8 `user:token`.
    package static func extract(
        authorizationValues values: [String], acceptingBasic: Bool = false
    ) throws(HeaderError) -> String? {
        guard values.count <= 1 else { throw .multipleAuthorizationHeaders }
        guard let value = values.first else { return nil }
        // Split on bytes, as Go's strings.SplitN does: a combining mark after the space must not
        // fuse with it into one Character.
        let parts = value.utf8.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
            .map { Substring($0) }
        guard parts.count >= 2 else { return nil }
        let token: Substring
        switch parts[0].lowercased() {
        case "bearer":
            token = parts[1]
        case "basic" where acceptingBasic && parts.count == 2:
            guard let password = basicPassword(parts[1]) else { return nil }
            token = password
        default:
            return nil
        }
        guard !token.isEmpty, token.utf8.count <= maximumLength else { return nil }
        return String(token)
    }

    /// The password of Basic credentials (`base64(user:password)`), nil when they cannot be decoded.
    private static func basicPassword(_ credentials: Substring) -> Substring? {
        guard credentials.utf8.count <= maximumLength * 2,
            let decoded = Data(base64Encoded: String(credentials)),
            let text = String(data: decoded, encoding: .utf8),
            // By byte, as Go's strings.Cut: a combining mark after the colon must not hide it.
            let colon = text.utf8.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        return Substring(text.utf8[text.utf8.index(after: colon)...])
    }
}
