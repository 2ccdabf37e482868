import Foundation

/// Runs the openssl scripts in certs/ (make-ca, make-serving-cert, make-client-cert), the ones
/// operators use, so the tests exercise exactly what they ship.
enum CertificateScripts {
    /// Runs `certs/<script>` with `arguments`; returns what it did, whatever its exit status.
    static func run(_ script: String, _ arguments: [String]) async throws -> CompletedProcess {
        try await CompletedProcess.run(
            PackagePaths.root.appendingPathComponent("certs/\(script)").path, arguments: arguments, timeout: .seconds(60))
    }

    /// Runs `certs/<script>` with `arguments` and fails unless it exits 0.
    @discardableResult
    static func succeed(_ script: String, _ arguments: [String]) async throws -> CompletedProcess {
        let result = try await run(script, arguments)
        guard result.exitStatus == 0 else {
            throw EndToEndError("certs/\(script) \(arguments.joined(separator: " ")) exited \(result.exitStatus):\n\(result.output)")
        }
        return result
    }
}
