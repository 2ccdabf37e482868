import NIOHTTP1

/// Reads the bearer token of a request the way Kubernetes does (`Authorization: Bearer <token>`).
public enum BearerToken {
    /// Longer tokens are refused without asking anyone: no real Kubernetes token comes near this.
    public static let maximumLength = 16 * 1024

    /// Why the `Authorization` headers cannot be read as credentials at all (answered with 400).
    public enum HeaderError: Error, Sendable, Hashable {
        case multipleAuthorizationHeaders
    }

    /// The token, or nil when there is none: no header, another scheme, an empty or oversized token.
    public static func extract(from headers: HTTPHeaders) throws(HeaderError) -> String? {
        let values = headers["authorization"]
        guard values.count <= 1 else { throw .multipleAuthorizationHeaders }
        guard let value = values.first else { return nil }
        let parts = value.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1]
        guard !token.isEmpty, token.utf8.count <= maximumLength else { return nil }
        return String(token)
    }
}
