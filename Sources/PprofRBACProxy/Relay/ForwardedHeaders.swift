import NIOHTTP1
import RequestPolicy

/// The header rewriting of a reverse proxy: what must not cross the proxy, and what it adds.
enum ForwardedHeaders {
    /// Connection-specific headers (RFC 9110 §7.6.1), never relayed in either direction.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// The default identity header names, always removed from inbound requests like the configured ones.
    static let defaultIdentity: Set<String> = ["x-remote-user", "x-remote-groups"]
    /// The prefix of the request-header convention's extra fields (`X-Remote-Extra-Scopes`, …): the
    /// proxy sends none, and every inbound one is removed, as kube-rbac-proxy and the kube-apiserver do.
    static let identityExtraPrefix = "x-remote-extra-"

    /// The headers sent upstream: no credentials, no hop-by-hop headers, no inbound identity headers
    /// (the configured and default names, and every `X-Remote-Extra-*`), no `Expect` (the proxy
    /// answered it); the client address appended to `X-Forwarded-For`; and, when enabled and the
    /// caller was authenticated, the identity headers naming them.
    static func request(
        _ headers: HTTPHeaders, clientAddress: String?, upstreamHost: String, identity: IdentityHeaders, user: UserInfo?
    ) -> HTTPHeaders {
        let userHeader = identity.userHeader.lowercased()
        let groupsHeader = identity.groupsHeader.lowercased()
        let listed = connectionListed(headers)
        var forwarded = HTTPHeaders()
        forwarded.reserveCapacity(headers.count + 1)
        var priorForwardedFor: [String] = []
        for (name, value) in headers {
            let lowercased = name.lowercased()
            if hopByHop.contains(lowercased) || defaultIdentity.contains(lowercased) || lowercased == userHeader
                || lowercased == groupsHeader || lowercased == "authorization" || lowercased == "expect"
                || listed.contains(lowercased) || lowercased.hasPrefix(identityExtraPrefix)
            {
                continue
            }
            if lowercased == "x-forwarded-for" {
                priorForwardedFor.append(value)
                continue
            }
            forwarded.add(name: name, value: value)
        }
        if !forwarded.contains(name: "host") {
            forwarded.add(name: "host", value: upstreamHost)
        }
        if let clientAddress {
            forwarded.add(name: "x-forwarded-for", value: (priorForwardedFor + [clientAddress]).joined(separator: ", "))
        }
        if identity.enabled, let user {
            forwarded.add(name: identity.userHeader, value: user.name)
            forwarded.add(name: identity.groupsHeader, value: user.groups.joined(separator: identity.groupsSeparator))
        }
        return forwarded
    }

    /// The upstream response headers as relayed to the client: everything but hop-by-hop headers.
    static func response(_ headers: HTTPHeaders) -> HTTPHeaders {
        let listed = connectionListed(headers)
        func relays(_ name: String) -> Bool {
            let lowercased = name.lowercased()
            return !hopByHop.contains(lowercased) && !listed.contains(lowercased)
        }
        guard !headers.allSatisfy({ relays($0.name) }) else { return headers }
        var relayed = HTTPHeaders()
        relayed.reserveCapacity(headers.count)
        for (name, value) in headers where relays(name) {
            relayed.add(name: name, value: value)
        }
        return relayed
    }

    /// The field names a `Connection` header lists, lowercased (empty without one).
    private static func connectionListed(_ headers: HTTPHeaders) -> Set<String> {
        guard headers.contains(name: "connection") else { return [] }
        return Set(headers[canonicalForm: "connection"].map { $0.lowercased() })
    }

    /// The head sent upstream for an authorized request: the target joined onto the upstream URL,
    /// HTTP/1.1, and the request headers rewritten as above.
    static func upstreamHead(
        for head: HTTPRequestHead, authorized: AuthorizedRequest, target: UpstreamTarget,
        identity: IdentityHeaders, clientAddress: String?
    ) -> HTTPRequestHead {
        var upstreamHead = head
        upstreamHead.uri = target.requestTarget(for: authorized.target)
        upstreamHead.version = .http1_1
        upstreamHead.headers = request(
            head.headers, clientAddress: clientAddress, upstreamHost: target.hostHeader,
            identity: identity, user: authorized.user
        )
        return upstreamHead
    }
}
