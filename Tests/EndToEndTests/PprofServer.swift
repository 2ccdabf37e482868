import Foundation

/// A running tools/pprof-server: the proxy's upstream, which records every request it gets.
struct PprofServer: TestResource {
    let process: ChildProcess
    let port: Int

    /// The value for the proxy's `--upstream`.
    var upstreamURL: String { "http://127.0.0.1:\(port)/" }

    static func start() async throws -> PprofServer {
        let executable = try await GoProgramBuilder.shared.executable(for: .pprofServer)
        let process = try ChildProcess.launch(executable, arguments: ["-addr", "127.0.0.1:0"])
        do {
            let line = try await process.waitForLine(containing: ListeningAddress.marker, in: .stdout, timeout: .seconds(10))
            return PprofServer(process: process, port: try ListeningAddress.port(in: line))
        } catch {
            await process.tearDown()
            throw error
        }
    }

    /// Every request received so far, in arrival order.
    func requests() async throws -> [UpstreamRequest] {
        let response = try await Curl.perform(CurlRequest(url: "http://127.0.0.1:\(port)/control/requests"))
        guard response.status == 200 else {
            throw EndToEndError("pprof-server /control/requests: \(response.summary)")
        }
        return try JSONDecoder().decode([UpstreamRequest].self, from: response.body)
    }

    /// Waits until a received request satisfies `condition` and returns it.
    func waitForRequest(
        _ description: String, timeout: Duration, where condition: (UpstreamRequest) -> Bool
    ) async throws -> UpstreamRequest {
        try await eventually("pprof-server to see \(description)", timeout: timeout) {
            try await requests().first(where: condition)
        }
    }

    func tearDown() async {
        await process.tearDown()
    }
}
