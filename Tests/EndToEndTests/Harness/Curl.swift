import Foundation

/// Runs the real curl, the client operators use, and reports what it saw.
enum Curl {
    /// Makes `request` and returns the response; a transfer error is reported, not thrown.
    static func perform(_ request: CurlRequest) async throws -> CurlResponse {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let bodyFile = scratch.appendingPathComponent("body")
        let headerFile = scratch.appendingPathComponent("headers")

        let started = ContinuousClock.now
        let result = try await CompletedProcess.run(
            "curl",
            arguments: request.arguments + [
                "-o", bodyFile.path, "-D", headerFile.path, "-w", "%{http_code} %{http_version}", request.url,
            ],
            timeout: request.maxTime + .seconds(30))
        let elapsed = ContinuousClock.now - started

        let written = (result.stdout.last ?? "").split(separator: " ")
        let headerDump = (try? String(contentsOf: headerFile, encoding: .utf8)) ?? ""
        let headBlocks = CurlResponse.parseHeaderDump(headerDump)
        return CurlResponse(
            exitCode: result.exitStatus,
            status: written.first.flatMap { Int($0) } ?? 0,
            httpVersion: written.count > 1 ? String(written[1]) : "0",
            headers: headBlocks.last ?? [],
            interimHeaders: Array(headBlocks.dropLast()),
            body: (try? Data(contentsOf: bodyFile)) ?? Data(),
            elapsed: elapsed,
            curlError: result.stderr.joined(separator: "\n"))
    }

    /// Sends `request` `count` times from one curl process (one connection, reused) and returns
    /// the status codes in order.
    static func statusCodes(of request: CurlRequest, count: Int) async throws -> [Int] {
        var arguments = request.arguments + ["-w", "%{http_code}\\n"]
        for _ in 0..<count {
            arguments += ["-o", "/dev/null", request.url]
        }
        let result = try await CompletedProcess.run(
            "curl", arguments: arguments, timeout: request.maxTime * count + .seconds(30))
        return result.stdout.map { Int($0.trimmingCharacters(in: .whitespaces)) ?? 0 }
    }
}
