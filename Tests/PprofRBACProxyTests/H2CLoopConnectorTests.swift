import NIOCore
import NIOPosix
import Testing

@testable import PprofRBACProxy
import TestProcesses

@Suite("H2CLoopConnector: exchanges as streams on one cleartext HTTP/2 connection", .timeLimit(.minutes(2)))
struct H2CLoopConnectorTests {
    /// A client whose pool speaks h2c to `port`, on one event loop of its own so that every exchange
    /// shares the loop's one connection.
    private static func withClient(port: Int, _ body: (UpstreamTestClient) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = UpstreamConnectionPool(
            configuration: .init(target: UpstreamTarget(host: "127.0.0.1", port: port), transport: .h2c),
            eventLoopGroup: group
        )
        do {
            try await body(UpstreamTestClient(connector: pool, eventLoop: group.next()))
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    @Test("requests reach the upstream as HTTP/2.0")
    func http2() async throws {
        try await PprofServerProcess.with(arguments: ["-h2c"]) { server in
            try await Self.withClient(port: server.port) { client in
                let response = try await client.get("/debug/pprof/cmdline?debug=1")
                #expect(response.status == .ok)
                #expect(response.bodyText.contains("pprof-server"))
                let records = try await client.upstreamRequests()
                #expect(records.map(\.proto) == ["HTTP/2.0"])
                #expect(records.first?.rawQuery == "debug=1")
            }
        }
    }

    /// Long enough that a test process stalled for seconds by a busy machine (the Go tools build
    /// beside the first tests) still sees them all running.
    @Test("concurrent exchanges run at once as streams of one connection")
    func concurrentStreams() async throws {
        let count = 4
        try await PprofServerProcess.with(arguments: ["-h2c"]) { server in
            try await Self.withClient(port: server.port) { client in
                var exchanges: [RunningExchange] = []
                for _ in 0..<count {
                    exchanges.append(try await client.start("/debug/pprof/allocs?seconds=30"))
                }
                let simultaneous = try await eventually("\(count) delta profiles running at once", timeout: .seconds(25)) {
                    let records = try await client.upstreamRequests().filter { $0.path == "/debug/pprof/allocs" && $0.ended == "running" }
                    return records.count == count ? records : nil
                }
                #expect(Set(simultaneous.map(\.remoteAddr)).count == 1, "\(simultaneous.map(\.remoteAddr))")
                #expect(simultaneous.allSatisfy { $0.proto == "HTTP/2.0" })
                for exchange in exchanges {
                    #expect(try await exchange.complete().status == .ok)
                }
            }
        }
    }

    @Test("an abandoned exchange resets only its stream: the upstream handler ends at once, the connection stays")
    func abandonedStream() async throws {
        try await PprofServerProcess.with(arguments: ["-h2c"]) { server in
            try await Self.withClient(port: server.port) { client in
                let profile = try await client.start("/debug/pprof/profile?seconds=300")
                let running = try await client.waitForUpstreamRequest("the CPU profile to start") {
                    $0.path == "/debug/pprof/profile" && $0.ended == "running"
                }
                try await profile.abandon()
                let ended = try await client.waitForUpstreamRequest("the abandoned profile to end", timeout: .seconds(30)) {
                    $0.path == "/debug/pprof/profile" && $0.ended != "running"
                }
                #expect(ended.ended == "client-gone")
                #expect(ended.durationSeconds < 60, "the profiler was held \(ended.durationSeconds) s of 300")

                let next = try await client.get("/debug/pprof/profile?seconds=1")
                #expect(next.status == .ok, "the profiler is still busy: \(next.bodyText)")
                let records = try await client.upstreamRequests()
                #expect(Set(records.map(\.remoteAddr)) == [running.remoteAddr], "the reset must not close the connection")
            }
        }
    }

    @Test("a stream whose reader stalls holds back only itself, and resumes where it stopped")
    func backpressure() async throws {
        let size = 8 << 20
        try await PprofServerProcess.with(arguments: ["-h2c"]) { server in
            try await Self.withClient(port: server.port) { client in
                let stalled = try await client.start("/debug/pprof/stream?bytes=\(size)", acceptsResponseData: false)
                try await eventually("the stalled response's head", timeout: .seconds(10)) {
                    try await stalled.headReceived() ? true : nil
                }
                // Another stream on the same connection still flows while the first one is stalled.
                #expect(try await client.get("/debug/pprof/cmdline").status == .ok)
                let buffered = try await stalled.bodyBytesReceived()
                #expect(buffered <= 128 << 10, "\(buffered) bytes were read from a stream nobody was reading")

                try await stalled.resume()
                let response = try await stalled.complete()
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == size)
            }
        }
    }

    @Test("when the upstream goes away, the next exchange opens a new connection")
    func reconnect() async throws {
        let server = try await PprofServerProcess.start(arguments: ["-h2c"])
        defer { server.stop() }
        try await Self.withClient(port: server.port) { client in
            #expect(try await client.get("/debug/pprof/cmdline").status == .ok)
            server.stop()
            try await PprofServerProcess.with(address: "127.0.0.1:\(server.port)", arguments: ["-h2c"]) { _ async throws in
                #expect(try await client.get("/debug/pprof/cmdline").status == .ok)
                #expect(try await client.upstreamRequests().map(\.proto) == ["HTTP/2.0"])
            }
        }
    }
}
