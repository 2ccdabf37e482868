import Foundation
import Testing
import TestProcesses

/// The real API server stopped and started again under the proxy: what is cached keeps serving,
/// what needs the API fails closed, and nothing needs a restart once the API is back.
@Suite("Real API server: outage", RealAPIServer.tier, .timeLimit(.minutes(10)))
struct RealAPIOutageTests {
    @Test("the API server goes away during traffic and comes back: cached callers 200, new tokens 503 with nothing forwarded, then 200 by itself")
    func goesAwayAndComesBack() async throws {
        try await using(try await RealAPIServer.start()) { api in
            let namespace = "outage"
            try await RealAPITokenTests.prepare(api, namespace: namespace, readers: ["regular", "newcomer"])
            let regular = try await api.token(serviceAccount: "regular", namespace: namespace)
            let newcomer = try await api.token(serviceAccount: "newcomer", namespace: namespace)
            try await RealAPIProxy.run(
                api: api, serviceAccount: "proxy", namespace: namespace,
                arguments: RealAPIProxy.loopback(["--kube-api-timeout=2s"]),
                secrets: [regular, newcomer]
            ) { proxy in
                let warm = try await proxy.status(token: regular)
                #expect(warm == 200)

                await api.stop()
                var during: [Int] = []
                for _ in 0..<5 {
                    during.append(try await proxy.status(token: regular))
                }
                #expect(during == Array(repeating: 200, count: 5), "the cached caller during the outage: \(during)")
                let unknown = try await Curl.perform(CurlRequest(url: proxy.proxy.baseURL + "/debug/pprof/heap", bearerToken: newcomer))
                #expect(unknown.status == 503, "\(unknown.summary)")
                #expect(unknown.header("Retry-After") != nil)
                let forwardedDuring = try await proxy.upstream.requests().count
                #expect(forwardedDuring == 6, "the newcomer's request must not reach pprof")

                try await api.restart()
                let recovered = try await eventually("the newcomer to be served once the API server is back", timeout: .seconds(60)) {
                    let status = try await proxy.status(token: newcomer)
                    return status == 200 ? status : nil
                }
                #expect(recovered == 200)
            }
        }
    }
}
