import NIOCore
import NIOHTTP1

/// The header rewriting of a reverse proxy: what must not cross the proxy, and what it adds.
enum ForwardedHeaders {
    /// Connection-specific headers (RFC 9110 §7.6.1), never relayed in either direction.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Inbound identity headers, removed so nobody can claim an identity the proxy did not establish.
    static let identity: Set<String> = ["x-remote-user", "x-remote-groups"]

    /// The headers sent upstream: no credentials, no hop-by-hop or identity headers, no `Expect`
    /// (the proxy answered it), and the client address appended to `X-Forwarded-For`.
    static func request(_ headers: HTTPHeaders, clientAddress: SocketAddress?, upstreamHost: String) -> HTTPHeaders {
        let dropped = hopByHop.union(identity).union(["authorization", "expect"]).union(connectionListed(headers))
        var forwarded = HTTPHeaders()
        forwarded.reserveCapacity(headers.count + 1)
        var priorForwardedFor: [String] = []
        for (name, value) in headers {
            let lowercased = name.lowercased()
            if dropped.contains(lowercased) { continue }
            if lowercased == "x-forwarded-for" {
                priorForwardedFor.append(value)
                continue
            }
            forwarded.add(name: name, value: value)
        }
        if !forwarded.contains(name: "host") {
            forwarded.add(name: "host", value: upstreamHost)
        }
        if let client = clientAddress?.ipAddress {
            forwarded.add(name: "x-forwarded-for", value: (priorForwardedFor + [client]).joined(separator: ", "))
        }
        return forwarded
    }

    /// The upstream response headers as relayed to the client: everything but hop-by-hop headers.
    static func response(_ headers: HTTPHeaders) -> HTTPHeaders {
        let dropped = hopByHop.union(connectionListed(headers))
        var relayed = headers
        for name in dropped where relayed.contains(name: name) {
            relayed.remove(name: name)
        }
        return relayed
    }

    private static func connectionListed(_ headers: HTTPHeaders) -> Set<String> {
        Set(headers[canonicalForm: "connection"].map { $0.lowercased() })
    }
}
