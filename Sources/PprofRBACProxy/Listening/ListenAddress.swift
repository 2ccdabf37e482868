/// A `HOST:PORT` to listen on (`--secure-listen-address`); `[::1]:8443` for IPv6, port 0 for any.
package struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package init(parsing text: String, flag: String) throws(ConfigurationError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw .invalidFlag(flag: flag, value: text, reason: "expected HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw .invalidFlag(flag: flag, value: text, reason: "invalid port")
        }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    package var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
