import Testing

/// An unhealthy Kubernetes API is an outage (503 with Retry-After), never a 401 and never cached.
@Suite("Kubernetes API failures", .timeLimit(.minutes(2)))
struct KubernetesAPIFailureTests {
    @Test("API server gone: 503 with Retry-After, nothing forwarded")
    func apiServerDown() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            await apiServer.tearDown()

            let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)

            expectProxyError(response, status: 503, bodyPrefix: "")
            #expect(response.header("Retry-After") != nil)
            try await environment.expectNothingForwarded()
        }
    }

    @Test("API server hanging: 503 soon after --kube-api-timeout")
    func apiServerHangs() async throws {
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: ["--kube-api-timeout", "1s"]) { environment, apiServer in
            try await apiServer.setMode(.hang)

            let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)

            expectProxyError(response, status: 503, bodyPrefix: "")
            #expect(response.header("Retry-After") != nil)
            #expect(response.elapsed < .seconds(8), "took \(response.elapsed) with a 1 s API timeout")
            try await environment.expectNothingForwarded()
        }
    }

    @Test("API server answering 500: 503, and the failure is not cached")
    func apiServerErrors() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            try await apiServer.setMode(.error500)
            let failed = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
            expectProxyError(failed, status: 503, bodyPrefix: "")
            #expect(failed.header("Retry-After") != nil)
            try await environment.expectNothingForwarded()

            try await apiServer.setMode(.normal)
            let recovered = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
            #expect(recovered.status == 200, "\(recovered.summary)")
        }
    }
}
