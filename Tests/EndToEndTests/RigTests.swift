import Foundation
import Testing

/// The rig itself, without the proxy: when these fail, the proxy tests' verdicts mean nothing.
@Suite("Test rig", .timeLimit(.minutes(2)))
struct RigTests {
    @Test("pprof-server serves pprof and records the request, headers included")
    func pprofServerRecords() async throws {
        try await using(try await PprofServer.start()) { upstream in
            let response = try await Curl.perform(CurlRequest(
                url: "http://127.0.0.1:\(upstream.port)/debug/pprof/symbol?0x1+0x2", bearerToken: "direct"))
            #expect(response.status == 200, "\(response.summary)")
            #expect(response.bodyText.hasPrefix("num_symbols: 1\n"))

            let requests = try await upstream.requests()
            let recorded = try #require(requests.first)
            #expect(recorded.path == "/debug/pprof/symbol")
            #expect(recorded.rawQuery == "0x1+0x2")
            #expect(recorded.hasHeader("authorization"))
            #expect(recorded.ended == "done")
        }
    }

    @Test("fake-apiserver authenticates the caller, reviews tokens and counts calls")
    func fakeAPIServerReviews() async throws {
        try await using(try TestWorkspace()) { workspace in
            try await using(try await FakeAPIServer.start(in: workspace)) { apiServer in
                let review = #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"\#(TestUsers.alice.token)"}}"#
                var request = CurlRequest(
                    url: apiServer.url + "/apis/authentication.k8s.io/v1/tokenreviews",
                    bearerToken: TestUsers.proxyCallerToken, method: "POST",
                    headers: ["Content-Type: application/json"], body: review,
                    caCertificate: apiServer.certificateAuthority)
                let created = try await Curl.perform(request)
                #expect(created.status == 201, "\(created.summary)")
                #expect(created.bodyText.contains(#""authenticated":true"#))
                #expect(created.bodyText.contains(#""username":"alice""#))

                request.bearerToken = "wrong-caller"
                let rejected = try await Curl.perform(request)
                #expect(rejected.status == 401, "\(rejected.summary)")

                #expect(try await apiServer.calls() == ReviewCalls(tokenReviews: 2, subjectAccessReviews: 0))
                #expect(try await apiServer.reviewRequests().first?.spec.token == TestUsers.alice.token)
            }
        }
    }
}
