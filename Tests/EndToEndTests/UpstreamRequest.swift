/// One request the pprof-server received, as its `/control/requests` reports it.
struct UpstreamRequest: Decodable, Sendable {
    let method: String
    /// The decoded path Go routed on (`r.URL.Path`).
    let path: String
    /// `r.URL.RawPath`: empty unless the path arrived with escapes Go would not produce itself.
    let rawPath: String
    let rawQuery: String
    let headers: [String: [String]]
    /// The address the request came from; requests on one kept-alive connection share it.
    let remoteAddr: String
    /// `HTTP/1.1` or `HTTP/2.0`.
    let proto: String
    /// The common name of the client certificate the server verified (`-client-ca`); empty without one.
    let clientCN: String
    /// "running", "done" or "client-gone" (the client left before the handler returned).
    let ended: String
    let status: Int
    let bytes: Int
    let durationSeconds: Double

    /// True if the request carried header `name` (case-insensitive).
    func hasHeader(_ name: String) -> Bool {
        headers.keys.contains { $0.lowercased() == name.lowercased() }
    }
}
