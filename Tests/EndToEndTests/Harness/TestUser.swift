/// A caller of the proxy: a bearer token and the identity it stands for.
struct TestUser: Sendable {
    let token: String
    let username: String
    let uid: String
    let groups: [String]
    /// Audiences the token is valid for at the fake API server; empty means the API server's default.
    let audiences: [String]
}
