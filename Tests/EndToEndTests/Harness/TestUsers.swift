/// The identities every test uses, shared by the fake API server and the local token file.
enum TestUsers {
    static let defaultAudience = "https://kubernetes.default.svc.cluster.local"
    static let proxyAudience = "pprof-rbac-proxy"

    /// Allowed to read /debug/pprof (the token is the one in the captured fixtures).
    static let alice = TestUser(
        token: "alice-ca1a8797a6642156924db5306eb46ab1", username: "alice", uid: "uid-alice",
        groups: ["pprof-users", "system:authenticated"], audiences: [defaultAudience, proxyAudience])

    /// Authenticated but granted nothing; valid only for the default audience.
    static let bob = TestUser(
        token: "bob-4d1f0c8a2e6b4b9a9c3e5f7a1b2c3d4e", username: "bob", uid: "uid-bob",
        groups: ["others", "system:authenticated"], audiences: [])

    static let all = [alice, bob]

    /// A token nobody knows.
    static let unknownToken = "not-a-real-token-7e3c9b1d"

    /// The proxy's own credential towards the fake API server (kubeconfig user token).
    static let proxyCallerToken = "proxy-caller-token-52b7e0f4a9c1"

    /// Every secret a test hands out: none may ever show up in the proxy's output.
    static let secrets = all.map(\.token) + [unknownToken, proxyCallerToken]
}
