import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

/// A dependency check whose answer the test sets.
final class SwitchableCheck: DependencyCheck {
    let answer = NIOLockedValueBox<String?>(nil)

    func problem() async -> String? {
        answer.withLockedValue { $0 }
    }
}

@Suite("ProxyEndpointsHandler: /healthz, /readyz, /dependencies and /metrics behind the endpoints gate")
struct ProxyEndpointsHandlerTests {
    let metrics = ProxyMetrics()

    /// The gate of the endpoints port: health paths open, `/metrics` for whoever may `get` it.
    func gate(metricsOpen: Bool = false) throws -> Gate {
        let health = [try PathPattern("/healthz"), try PathPattern("/readyz"), try PathPattern("/dependencies")]
        let metricsPath = try PathPattern("/metrics")
        return Gate(
            pathPolicy: PathPolicy(allowed: health + [metricsPath], ignored: health + (metricsOpen ? [metricsPath] : [])),
            authenticator: RecordingAuthenticator(answers: [
                "alice-token": UserInfo(name: "alice"), "bob-token": UserInfo(name: "bob"),
            ]),
            authorizer: RecordingAuthorizer(allowed: ["alice get /metrics"]),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    func request(
        _ path: String, method: HTTPMethod = .GET, token: String? = nil, readiness: ProxyReadiness? = nil,
        checks: [any DependencyCheck] = [], metrics: ProxyMetrics? = nil, gate: Gate? = nil
    ) async throws -> (head: HTTPResponseHead, body: String?) {
        let gate = try gate ?? self.gate()
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers([
                GateHandler(gate: gate, isHTTP2: false), ProxyEndpointsHandler(readiness: readiness, checks: checks, metrics: metrics),
            ])
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8444))
        var headers = HTTPHeaders()
        if let token { headers.add(name: "authorization", value: "Bearer \(token)") }
        try await channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
        try await channel.writeInbound(HTTPServerRequestPart.end(nil))
        let head = try #require(try await channel.nextOutbound(as: HTTPServerResponsePart.self).head)
        let next = try await channel.nextOutbound(as: HTTPServerResponsePart.self)
        return (head, next.bodyString)
    }

    @Test("healthz is ok; readyz follows the proxy listener, not the dependencies; dependencies names what cannot be reached; other paths are 404")
    func endpoints() async throws {
        let upstream = SwitchableCheck()
        let api = SwitchableCheck()
        let readiness = ProxyReadiness()
        let notYet = try await request("/readyz", readiness: readiness, checks: [upstream, api])
        #expect(notYet.head.status == .serviceUnavailable)
        #expect(notYet.body == "not ready: the proxy listener is not accepting requests\n")
        readiness.setServing(true)
        #expect(try await request("/healthz", readiness: readiness, checks: [upstream, api]).head.status == .ok)
        #expect(try await request("/readyz", readiness: readiness, checks: [upstream, api]).body == "ok\n")
        #expect(try await request("/dependencies", readiness: readiness, checks: [upstream, api]).body == "ok\n")

        upstream.answer.withLockedValue { $0 = "upstream 127.0.0.1:8081 unreachable" }
        api.answer.withLockedValue { $0 = "Kubernetes API answered 500" }
        let (head, body) = try await request("/dependencies?verbose", readiness: readiness, checks: [upstream, api])
        #expect(head.status == .serviceUnavailable)
        #expect(body == "unreachable: Kubernetes API answered 500; upstream 127.0.0.1:8081 unreachable\n")
        let ready = try await request("/readyz", readiness: readiness, checks: [upstream, api])
        #expect(ready.head.status == .ok, "readiness does not depend on pprof or the Kubernetes API")
        #expect(try await request("/healthz", readiness: readiness, checks: [upstream, api]).head.status == .ok)
        #expect(try await request("/debug/pprof/heap").head.status == .notFound)
    }

    @Test("/metrics: 401 without credentials, 403 without a grant, the Prometheus text for a granted user")
    func protectedMetrics() async throws {
        metrics.requestEnded(endpoint: "heap", code: "200", duration: .milliseconds(3), completed: true)
        let anonymous = try await request("/metrics", metrics: metrics)
        #expect(anonymous.head.status == .unauthorized)
        #expect(anonymous.body == "Unauthorized\n")
        let bob = try await request("/metrics", token: "bob-token", metrics: metrics)
        #expect(bob.head.status == .forbidden)
        #expect(bob.body == "Forbidden (user=bob, verb=get, path=/metrics)\n")
        let alice = try await request("/metrics", token: "alice-token", metrics: metrics)
        #expect(alice.head.status == .ok)
        #expect(alice.head.headers["content-type"] == ["text/plain; version=0.0.4; charset=utf-8"])
        #expect(alice.body?.contains(#"pprof_rbac_proxy_requests_total{code="200",endpoint="heap"} 1"#) == true)
    }

    @Test("/metrics with --metrics-insecure: open to anyone; HEAD has no body")
    func openMetrics() async throws {
        let open = try gate(metricsOpen: true)
        #expect(try await request("/metrics", metrics: metrics, gate: open).head.status == .ok)
        let head = try await request("/metrics", method: .HEAD, metrics: metrics, gate: open)
        #expect(head.head.status == .ok)
        #expect(head.body == nil)
    }

    @Test("/metrics is 404 on a listener that does not serve it")
    func metricsElsewhere() async throws {
        #expect(try await request("/metrics", token: "alice-token").head.status == .notFound)
    }
}
