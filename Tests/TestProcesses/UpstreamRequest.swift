/// One request tools/pprof-server received, as its `/control/requests` reports it (both test
/// targets read it).
public struct UpstreamRequest: Decodable, Sendable {
    public let method: String
    /// The decoded path Go routed on (`r.URL.Path`).
    public let path: String
    /// `r.URL.RawPath`: empty unless the path arrived with escapes Go would not produce itself.
    public let rawPath: String
    public let rawQuery: String
    public let headers: [String: [String]]
    /// The address the request came from; requests on one kept-alive connection share it.
    public let remoteAddr: String
    /// `HTTP/1.1` or `HTTP/2.0`.
    public let proto: String
    /// The common name of the client certificate the server verified (`-client-ca`); empty without one.
    public let clientCN: String
    /// "running", "done", "client-gone" (the client left before the handler returned) or "aborted"
    /// (the handler broke the connection on purpose).
    public let ended: String
    public let status: Int
    public let bytes: Int
    public let durationSeconds: Double

    /// True if the request carried header `name` (case-insensitive).
    public func hasHeader(_ name: String) -> Bool {
        headers.keys.contains { $0.lowercased() == name.lowercased() }
    }
}
