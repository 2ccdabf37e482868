import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import PprofRBACProxy

/// A readiness check whose answer the test sets.
final class SwitchableCheck: ReadinessCheck {
    let answer = NIOLockedValueBox<String?>(nil)

    func problem() async -> String? {
        answer.withLockedValue { $0 }
    }
}

@Suite("ProxyEndpointsHandler: /healthz, /readyz, nothing else")
struct ProxyEndpointsHandlerTests {
    func get(_ path: String, checks: [any ReadinessCheck]) async throws -> (HTTPResponseHead, String) {
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(ProxyEndpointsHandler(checks: checks))
        }
        try await channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path)))
        try await channel.writeInbound(HTTPServerRequestPart.end(nil))
        let head = try #require(try await channel.nextOutbound(as: HTTPServerResponsePart.self).head)
        let body = try #require(try await channel.nextOutbound(as: HTTPServerResponsePart.self).bodyString)
        return (head, body)
    }

    @Test("healthz is ok; readyz follows the checks; other paths are 404")
    func endpoints() async throws {
        let upstream = SwitchableCheck()
        let api = SwitchableCheck()
        #expect(try await get("/healthz", checks: [upstream, api]).0.status == .ok)
        #expect(try await get("/readyz", checks: [upstream, api]) .1 == "ok\n")
        upstream.answer.withLockedValue { $0 = "upstream 127.0.0.1:8081 unreachable" }
        api.answer.withLockedValue { $0 = "Kubernetes API answered 500" }
        let (head, body) = try await get("/readyz?verbose", checks: [upstream, api])
        #expect(head.status == .serviceUnavailable)
        #expect(body == "not ready: Kubernetes API answered 500; upstream 127.0.0.1:8081 unreachable\n")
        #expect(try await get("/healthz", checks: [upstream, api]).0.status == .ok, "healthz does not depend on readiness")
        #expect(try await get("/debug/pprof/heap", checks: []).0.status == .notFound)
    }
}
