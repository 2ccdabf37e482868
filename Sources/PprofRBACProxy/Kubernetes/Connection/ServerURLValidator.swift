import Foundation

/// Checks an API server URL: `https`, or plain `http` only to a loopback host; no credentials, query or fragment.
enum ServerURLValidator {
    /// Why a server URL is refused; `displayedServer` is safe to print (user information removed).
    struct Problem: Error, Sendable, Hashable {
        var displayedServer: String
        var reason: String
    }

    static func validate(_ server: String) throws(Problem) -> URL {
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(),
            let host = url.host, !host.isEmpty
        else {
            throw Problem(displayedServer: server, reason: "not an absolute URL such as https://host:6443")
        }
        if url.user != nil || url.password != nil {
            throw Problem(displayedServer: withoutUserInformation(url), reason: "it must not contain user information")
        }
        if url.query != nil || url.fragment != nil {
            throw Problem(displayedServer: server, reason: "it must not have a query or a fragment")
        }
        switch scheme {
        case "https":
            return url
        case "http" where isLoopback(host):
            return url
        case "http":
            throw Problem(displayedServer: server, reason: "plain http is only allowed to a loopback host; use https")
        default:
            throw Problem(displayedServer: server, reason: "the scheme must be https")
        }
    }

    /// localhost, 127.0.0.0/8 or ::1.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" {
            return true
        }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    private static func withoutUserInformation(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "(redacted)" }
        components.user = nil
        components.password = nil
        return components.string ?? "(redacted)"
    }
}
