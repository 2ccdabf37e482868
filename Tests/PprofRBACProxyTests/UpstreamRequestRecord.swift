/// One request tools/pprof-server received, as its `/control/requests` reports it.
struct UpstreamRequestRecord: Decodable, Sendable {
    let path: String
    let rawQuery: String
    /// `HTTP/1.1` or `HTTP/2.0`.
    let proto: String
    /// The client's address; requests on one upstream connection share it.
    let remoteAddr: String
    /// The verified client certificate's common name, empty without one.
    let clientCN: String
    /// `running`, `done`, `client-gone` or `aborted`.
    let ended: String
    let durationSeconds: Double
}
