import RequestPolicy

/// Where allowed requests go: `--upstream http(s)://HOST:PORT/BASE`, and how a request target is
/// joined onto it (as Go's `httputil.NewSingleHostReverseProxy` does).
package struct UpstreamTarget: Sendable, Hashable {
    /// How the upstream is spoken to: cleartext or TLS.
    package enum Scheme: String, Sendable, Hashable {
        case http
        case https

        /// The port a URL without one means.
        package var defaultPort: Int {
            switch self {
            case .http: 80
            case .https: 443
            }
        }
    }

    package var scheme: Scheme
    package var host: String
    package var port: Int
    /// The path of the upstream URL, joined in front of every request path.
    package var basePath: String
    /// The query of the upstream URL, merged in front of every request query.
    package var baseQuery: String

    package init(scheme: Scheme = .http, host: String, port: Int, basePath: String = "", baseQuery: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.baseQuery = baseQuery
    }

    /// Parses `--upstream`: an `http://` or `https://` URL.
    package init(parsing url: String) throws(ConfigurationError) {
        func invalid(_ reason: String) -> ConfigurationError {
            .invalidFlag(flag: "--upstream", value: url, reason: reason)
        }
        guard let separator = url.range(of: "://"),
            let scheme = Scheme(rawValue: url[..<separator.lowerBound].lowercased())
        else { throw invalid("the upstream must be an http:// or https:// URL") }
        var rest = url[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        rest = rest.dropFirst(authority.count)
        let path = rest.prefix { $0 != "?" }
        let query = rest.dropFirst(path.count).dropFirst()
        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let afterHost = authority[authority.index(after: close)...]
            portPart = afterHost.hasPrefix(":") ? afterHost.dropFirst() : nil
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
            portPart = nil
        }
        guard !hostPart.isEmpty else { throw invalid("the upstream URL has no host") }
        let port: Int
        if let portPart {
            guard let parsed = Int(portPart), (1...65535).contains(parsed) else { throw invalid("invalid port") }
            port = parsed
        } else {
            port = scheme.defaultPort
        }
        self.init(scheme: scheme, host: String(hostPart), port: port, basePath: String(path), baseQuery: String(query))
    }

    /// The `Host` header for requests that arrived without one.
    package var hostHeader: String {
        let host = self.host.utf8.contains(UInt8(ascii: ":")) ? "[\(self.host)]" : self.host
        return port == scheme.defaultPort ? host : "\(host):\(port)"
    }

    /// The request target to send upstream for an authorized, normalized target.
    package func requestTarget(for target: RequestTarget) -> String {
        let path = Self.singleJoiningSlash(basePath, target.encodedPath)
        let requestQuery = target.rawQuery ?? ""
        let query =
            baseQuery.isEmpty ? requestQuery : requestQuery.isEmpty ? baseQuery : baseQuery + "&" + requestQuery
        guard !query.isEmpty || (target.rawQuery != nil && baseQuery.isEmpty) else { return path }
        return path + "?" + query
    }

    private static func singleJoiningSlash(_ base: String, _ path: String) -> String {
        switch (base.hasSuffix("/"), path.hasPrefix("/")) {
        case (true, true): base + path.dropFirst()
        case (false, false): base + "/" + path
        default: base + path
        }
    }
}
