import Foundation
import Testing

/// What changes for someone who swaps kube-rbac-proxy's image for this one, as docs/deployment.md
/// ("Replacing kube-rbac-proxy") tells it, and the flags that keep the old behaviour, with RBAC the
/// real API server evaluates.
@Suite("Real API server: replacing kube-rbac-proxy", RealAPIServer.tier, .timeLimit(.minutes(10)))
struct RealAPIMigrationTests {
    static let namespace = "migration"

    static func prepare(_ api: RealAPIServer) async throws {
        try await RealAPITokenTests.prepare(api, namespace: namespace, readers: [])
        try await api.createServiceAccounts(["scraper", "symbolizer"], in: namespace)
        try await api.apply(file: PackagePaths.root.appendingPathComponent("deploy/base/metrics-reader-role.yaml").path)
        try await api.bind(serviceAccount: "scraper", namespace: namespace, to: "pprof-rbac-proxy-metrics-reader", as: "migration-scraper")
        // RBAC written for kube-rbac-proxy, which asks `create` for a POST.
        try await api.apply("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: migration-kube-rbac-proxy-style
            rules:
              - nonResourceURLs: ["/debug/pprof", "/debug/pprof/*"]
                verbs: ["get", "create"]
            """)
        try await api.bind(serviceAccount: "symbolizer", namespace: namespace, to: "migration-kube-rbac-proxy-style", as: "migration-symbolizer")
    }

    @Test("a sidecar that fronted /metrics: 404 before authentication, nothing forwarded, the startup log naming the paths proxied; --allow-paths=/metrics forwards it again")
    func paths() async throws {
        let api = try await RealAPIServer.shared()
        try await Self.prepare(api)
        let scraper = try await api.token(serviceAccount: "scraper", namespace: Self.namespace)
        try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: Self.namespace, secrets: [scraper]) { proxy in
            let status = try await proxy.status("/metrics", token: scraper)
            #expect(status == 404)
            let forwarded = try await proxy.upstream.requests()
            #expect(forwarded.isEmpty)
            #expect(proxy.proxy.process.allOutput.contains("proxying /debug/pprof, /debug/pprof/* to authorized callers; any other path is 404"))
        }
        try await RealAPIProxy.run(
            api: api, serviceAccount: "proxy", namespace: Self.namespace, arguments: RealAPIProxy.loopback(["--allow-paths=/metrics"]),
            secrets: [scraper]
        ) { proxy in
            _ = try await proxy.status("/metrics", token: scraper)
            let forwarded = try await proxy.upstream.requests().map(\.path)
            #expect(forwarded == ["/metrics"], "authorized by the API server (get on /metrics) and forwarded")
        }
    }

    @Test("RBAC that grants kube-rbac-proxy's create for POST /debug/pprof/symbol: 403 here, 200 with --verb-mapping=kube-rbac-proxy")
    func verbs() async throws {
        let api = try await RealAPIServer.shared()
        try await Self.prepare(api)
        let symbolizer = try await api.token(serviceAccount: "symbolizer", namespace: Self.namespace)
        func postSymbol(_ proxy: RealAPIProxy) async throws -> Int {
            try await Curl.perform(CurlRequest(
                url: proxy.proxy.baseURL + "/debug/pprof/symbol", bearerToken: symbolizer, method: "POST", body: "0x0")).status
        }
        try await RealAPIProxy.run(api: api, serviceAccount: "proxy", namespace: Self.namespace, secrets: [symbolizer]) { proxy in
            let status = try await postSymbol(proxy)
            #expect(status == 403)
        }
        try await RealAPIProxy.run(
            api: api, serviceAccount: "proxy", namespace: Self.namespace, arguments: RealAPIProxy.loopback(["--verb-mapping=kube-rbac-proxy"]),
            secrets: [symbolizer]
        ) { proxy in
            let status = try await postSymbol(proxy)
            #expect(status == 200)
        }
    }
}
