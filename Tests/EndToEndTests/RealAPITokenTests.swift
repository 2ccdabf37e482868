import Foundation
import Testing
import TestProcesses

/// Real ServiceAccount tokens from TokenRequest, as Kubernetes reviews them: audiences, deleted
/// ServiceAccounts, and the proxy's own projected token rotating under it.
@Suite("Real API server: tokens", RealAPIServer.tier, .timeLimit(.minutes(10)))
struct RealAPITokenTests {
    /// A namespace of the test's own, with a proxy ServiceAccount allowed to review (bound to
    /// system:auth-delegator) and `readers` bound to deploy/'s pprof-reader.
    static func prepare(_ api: RealAPIServer, namespace: String, readers: [String]) async throws {
        try await api.createServiceAccounts(["proxy"] + readers, in: namespace)
        try await api.applyPprofReaderRole()
        try await api.bind(serviceAccount: "proxy", namespace: namespace, to: "system:auth-delegator", as: "\(namespace)-proxy-auth-delegator")
        for reader in readers {
            try await api.bind(serviceAccount: reader, namespace: namespace, to: "pprof-reader", as: "\(namespace)-\(reader)-pprof-reader")
        }
    }

    @Test("--auth-token-audiences: a token for the proxy's audience 200, a token for the API server's audience 401")
    func audiences() async throws {
        let api = try await RealAPIServer.shared()
        let namespace = "tokens-audiences"
        try await Self.prepare(api, namespace: namespace, readers: ["reader"])
        let right = try await api.token(serviceAccount: "reader", namespace: namespace, audience: "pprof-rbac-proxy")
        let wrong = try await api.token(serviceAccount: "reader", namespace: namespace)
        try await RealAPIProxy.run(
            api: api, serviceAccount: "proxy", namespace: namespace,
            arguments: RealAPIProxy.loopback(["--auth-token-audiences=pprof-rbac-proxy"]),
            secrets: [right, wrong]
        ) { proxy in
            let statuses = [try await proxy.status(token: right), try await proxy.status(token: wrong)]
            #expect(statuses == [200, 401])
            let forwarded = try await proxy.upstream.requests().count
            #expect(forwarded == 1)
        }
    }

    @Test("a deleted ServiceAccount's token stops working once the token cache's TTL has passed")
    func deletedServiceAccount() async throws {
        let api = try await RealAPIServer.shared()
        let namespace = "tokens-deleted"
        try await Self.prepare(api, namespace: namespace, readers: ["leaving"])
        let token = try await api.token(serviceAccount: "leaving", namespace: namespace)
        try await RealAPIProxy.run(
            api: api, serviceAccount: "proxy", namespace: namespace,
            arguments: RealAPIProxy.loopback(["--authentication-token-webhook-cache-ttl=3s"]),
            secrets: [token]
        ) { proxy in
            let before = try await proxy.status(token: token)
            #expect(before == 200)
            try await api.kubectl(["delete", "serviceaccount", "leaving", "-n", namespace])
            // The proxy's cache (3 s here) and the API server's own (10 s) both have to expire.
            let refused = try await eventually("the deleted ServiceAccount's token to be refused", timeout: .seconds(60)) {
                let status = try await proxy.status(token: token)
                return status == 200 ? nil : status
            }
            #expect(refused == 401)
        }
    }

    @Test("the proxy's own token file replaced as the kubelet rotates it, the old token revoked: reviews go on with the new one")
    func proxyTokenRotation() async throws {
        let api = try await RealAPIServer.shared()
        let namespace = "tokens-rotation"
        try await Self.prepare(api, namespace: namespace, readers: ["first", "second"])
        // Tokens bound to a Secret, so that deleting the Secret revokes them, as deleting a pod
        // revokes its projected tokens.
        for secret in ["proxy-token-1", "proxy-token-2"] {
            try await api.apply("apiVersion: v1\nkind: Secret\nmetadata:\n  name: \(secret)\n  namespace: \(namespace)\n")
        }
        func proxyToken(boundTo secret: String) async throws -> String {
            try await api.kubectl([
                "create", "token", "proxy", "-n", namespace, "--bound-object-kind", "Secret", "--bound-object-name", secret,
            ]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let firstProxyToken = try await proxyToken(boundTo: "proxy-token-1")
        let secondProxyToken = try await proxyToken(boundTo: "proxy-token-2")
        let first = try await api.token(serviceAccount: "first", namespace: namespace)
        let second = try await api.token(serviceAccount: "second", namespace: namespace)
        try await RealAPIProxy.run(
            api: api, serviceAccount: "proxy", namespace: namespace, token: firstProxyToken,
            secrets: [firstProxyToken, secondProxyToken, first, second]
        ) { proxy in
            let before = try await proxy.status(token: first)
            #expect(before == 200)

            try proxy.replaceToken(with: secondProxyToken)
            try await api.kubectl(["delete", "secret", "proxy-token-1", "-n", namespace])
            // Once the API server itself refuses the old token (it caches tokens for 10 s) ...
            try await eventually("the API server to refuse the revoked token", timeout: .seconds(60)) {
                try await api.accepts(token: firstProxyToken) ? nil : true
            }
            // ... a caller the proxy has not seen yet needs a TokenReview made with the new token.
            let after = try await proxy.status(token: second)
            #expect(after == 200)
        }
    }
}
