import Foundation
import Testing

/// Who gets through: bearer tokens reviewed by TokenReview, access decided by SubjectAccessReview.
@Suite("Authentication and authorization", .timeLimit(.minutes(2)))
struct AuthenticationTests {
    private let heap = "/debug/pprof/heap"

    @Test("No bearer token: 401 Unauthorized, no review, nothing forwarded")
    func missingToken() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            let response = try await environment.request(heap)

            expectProxyError(response, status: 401, bodyPrefix: "Unauthorized")
            #expect(response.bodyText == "Unauthorized\n")
            try await environment.proxy.waitForLogLine(containing: "method=GET path=\(heap) user=- status=401")
            #expect(try await apiServer.calls() == .none)
            try await environment.expectNothingForwarded()
        }
    }

    @Test("Unknown bearer token: 401 after one TokenReview, no SubjectAccessReview")
    func unknownToken() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            let response = try await environment.request(heap, token: TestUsers.unknownToken)

            expectProxyError(response, status: 401, bodyPrefix: "Unauthorized")
            #expect(response.bodyText == "Unauthorized\n")
            #expect(try await apiServer.calls() == ReviewCalls(tokenReviews: 1, subjectAccessReviews: 0))
            #expect(try await apiServer.reviewRequests().first?.spec.token == TestUsers.unknownToken)
            try await environment.expectNothingForwarded()
        }
    }

    @Test("Authenticated but not granted (bob): 403 Forbidden after a SubjectAccessReview for the path")
    func deniedUser() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            let response = try await environment.request(heap, token: TestUsers.bob.token)

            expectProxyError(response, status: 403, bodyPrefix: "Forbidden")
            #expect(!response.bodyText.contains(TestUsers.bob.token))
            let accessReviews = try await apiServer.reviewRequests().filter(\.isSubjectAccessReview)
            #expect(accessReviews.count == 1)
            let review = try #require(accessReviews.first)
            #expect(review.spec.user == "bob")
            #expect(review.spec.groups?.contains("others") == true)
            #expect(review.spec.nonResourceAttributes == .init(path: heap, verb: "get"))
            try await environment.proxy.waitForLogLine(containing: "path=\(heap) user=bob status=403")
            try await environment.expectNothingForwarded()
        }
    }

    @Test("Granted user (alice) gets the heap profile; Authorization never reaches pprof")
    func allowedUser() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, apiServer in
            let response = try await environment.request(heap, token: TestUsers.alice.token)

            #expect(response.status == 200, "\(response.summary)")
            #expect(response.isGzip, "pprof's protobuf profiles start with 1f 8b")
            #expect(response.header("Content-Type") == "application/octet-stream")
            #expect(response.header("Content-Encoding") == nil)

            let forwarded = try await environment.upstream.requests().filter { $0.path == heap }
            #expect(forwarded.count == 1)
            let upstreamRequest = try #require(forwarded.first)
            #expect(upstreamRequest.method == "GET")
            #expect(!upstreamRequest.hasHeader("Authorization"), "headers: \(upstreamRequest.headers.keys.sorted())")
            #expect(upstreamRequest.bytes == response.body.count, "the body is relayed verbatim")

            let reviews = try await apiServer.reviewRequests()
            let tokenReview = try #require(reviews.first { $0.isTokenReview })
            #expect(tokenReview.spec.token == TestUsers.alice.token)
            #expect(tokenReview.spec.audiences == nil, "no --auth-token-audiences, no spec.audiences")
            let accessReview = try #require(reviews.first { $0.isSubjectAccessReview })
            #expect(accessReview.spec.user == "alice")
            #expect(accessReview.spec.groups?.contains("pprof-users") == true)
            #expect(accessReview.spec.nonResourceAttributes == .init(path: heap, verb: "get"))

            let logLine = try await environment.proxy.waitForLogLine(
                containing: "method=GET path=\(heap) user=alice status=200 bytes=")
            #expect(logLine.contains("bytes=\(response.body.count) "), "log line: \(logLine)")
            #expect(logLine.contains("duration="), "log line: \(logLine)")
        }
    }

    @Test("--auth-token-audiences is sent as spec.audiences, and a token for other audiences is refused")
    func audiences() async throws {
        let audiences = [TestUsers.proxyAudience, "second-audience"]
        try await ProxyEnvironment.withKubernetesProxy(
            proxyArguments: ["--auth-token-audiences", audiences.joined(separator: ",")]
        ) { environment, apiServer in
            let alice = try await environment.request(heap, token: TestUsers.alice.token)
            #expect(alice.status == 200, "alice's token is valid for pprof-rbac-proxy: \(alice.summary)")

            let bob = try await environment.request(heap, token: TestUsers.bob.token)
            expectProxyError(bob, status: 401, bodyPrefix: "Unauthorized")

            let tokenReviews = try await apiServer.reviewRequests().filter(\.isTokenReview)
            #expect(tokenReviews.count == 2)
            for review in tokenReviews {
                #expect(review.spec.audiences == audiences)
            }
        }
    }

    @Test("Bearer tokens never appear in the proxy's output, even at -v=10")
    func tokensStayOutOfTheLog() async throws {
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: ["-v=10"]) { environment, _ in
            let requests: [(token: String, status: Int)] = [
                (TestUsers.alice.token, 200), (TestUsers.bob.token, 403), (TestUsers.unknownToken, 401),
            ]
            for (token, status) in requests {
                let response = try await environment.request(heap, token: token)
                #expect(response.status == status, "\(response.summary)")
                // Once the request's log line is out, whatever it logged before is in the output too.
                try await environment.proxy.waitForLogLine(containing: "status=\(status) bytes=")
            }
            expectNoSecrets(in: environment.proxy.process)
        }
    }
}
