import Foundation
import Testing

/// Which paths are served, how they are normalized, and that the query arrives untouched.
@Suite("Paths and queries", .timeLimit(.minutes(2)))
struct PathPolicyTests {
    @Test("Paths outside /debug/pprof are 404 before authentication: no review, nothing forwarded")
    func pathsOutsidePprof() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            for path in ["/", "/metrics", "/debug/pprofile", "/debug/vars", "/control/requests", "/DEBUG/pprof/heap"] {
                let response = try await environment.request(path, token: TestUsers.alice.token)
                expectProxyError(response, status: 404, bodyPrefix: "404 page not found")
                #expect(response.bodyText == "404 page not found\n", "\(path)")
            }
            #expect(try await apiServer.calls() == .none)
            try await environment.expectNothingForwarded()
        }
    }

    @Test(
        "Encoded and dot-segment paths are authorized and forwarded as the clean path",
        arguments: ["/debug/pprof/%68eap", "/debug/pprof/../pprof/heap"])
    func normalizedPath(path: String) async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            let response = try await environment.request(path, token: TestUsers.alice.token)

            #expect(response.status == 200, "\(response.summary)")
            #expect(response.isGzip)
            let forwarded = try await environment.upstream.requests()
            let heap = try #require(forwarded.last)
            #expect(heap.path == "/debug/pprof/heap")
            #expect(heap.rawPath == "", "forwarded with escapes: \(heap.rawPath)")
            let reviews = try await apiServer.reviewRequests()
            let accessReview = try #require(reviews.first { $0.isSubjectAccessReview })
            #expect(accessReview.spec.nonResourceAttributes?.path == "/debug/pprof/heap")
        }
    }

    @Test("An encoded slash cannot be decoded safely: 400, nothing forwarded")
    func encodedSlash() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let response = try await environment.request("/debug/pprof/%2Fheap", token: TestUsers.alice.token)

            expectProxyError(response, status: 400, bodyPrefix: "")
            try await environment.expectNothingForwarded()
        }
    }

    @Test("The raw query reaches pprof byte for byte (symbol lookups depend on '+')")
    func rawQuery() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let symbol = try await environment.request("/debug/pprof/symbol?0x1+0x2", token: TestUsers.alice.token)
            #expect(symbol.status == 200, "\(symbol.summary)")
            #expect(symbol.bodyText.hasPrefix("num_symbols: 1\n"))

            let heap = try await environment.request(
                "/debug/pprof/heap?debug=1&label=a%2Bb+c%20d", token: TestUsers.alice.token)
            #expect(heap.status == 200, "\(heap.summary)")

            let queries = try await environment.upstream.requests().map(\.rawQuery)
            #expect(queries == ["0x1+0x2", "debug=1&label=a%2Bb+c%20d"])
        }
    }
}
