import Foundation
import TestProcesses
import NIOCore
import NIOHTTP1

@testable import PprofRBACProxy

/// Sends requests through an `UpstreamConnector` the way `ForwardingHandler` does, for tests that
/// talk to a real upstream without a downstream connection.
struct UpstreamTestClient: Sendable {
    let connector: UpstreamConnectionPool
    let eventLoop: any EventLoop

    /// Starts a bodiless GET of `uri` and returns as soon as a connection is leased.
    func start(_ uri: String, acceptsResponseData: Bool = true) async throws -> RunningExchange {
        let leased = eventLoop.makePromise(of: RunningExchange.self)
        eventLoop.execute { [connector, eventLoop] in
            connector.lease(on: eventLoop, fresh: false) { result in
                switch result {
                case .success(let connection):
                    let completion = eventLoop.makePromise(of: CollectedResponse.self)
                    let recorder = ResponseRecorder(
                        connection: connection, completion: completion, acceptsResponseData: acceptsResponseData
                    )
                    // The connection holds its delegate weakly; keep the recorder until the response ends.
                    completion.futureResult.assumeIsolated().whenComplete { _ in withExtendedLifetime(recorder) {} }
                    connection.begin(delegate: recorder)
                    var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)
                    head.headers.add(name: "host", value: "127.0.0.1")
                    connection.write(.head(head))
                    connection.write(.end(nil))
                    connection.flush()
                    leased.succeed(RunningExchange(
                        recorder: NIOLoopBound(recorder, eventLoop: eventLoop), response: completion.futureResult
                    ))
                case .failure(let error):
                    leased.fail(error)
                }
            }
        }
        return try await leased.futureResult.get()
    }

    /// Sends a bodiless GET of `uri` and waits for the whole response.
    func get(_ uri: String) async throws -> CollectedResponse {
        try await start(uri).complete()
    }

    /// The requests the pprof-server behind the connector has received, in arrival order.
    func upstreamRequests() async throws -> [UpstreamRequest] {
        let response = try await get("/control/requests")
        guard response.status == .ok else {
            throw UpstreamTestFailure("pprof-server /control/requests: \(response.status) \(response.bodyText)")
        }
        return try JSONDecoder().decode([UpstreamRequest].self, from: Data(response.bodyText.utf8))
    }

    /// Polls the pprof-server's records until one satisfies `condition`.
    func waitForUpstreamRequest(
        _ description: String, timeout: Duration = .seconds(10), where condition: (UpstreamRequest) -> Bool
    ) async throws -> UpstreamRequest {
        try await eventually(description, timeout: timeout) { try await upstreamRequests().first(where: condition) }
    }
}
