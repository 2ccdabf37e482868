import Foundation
import TestProcesses

/// A running tools/pprof-server: the proxy's upstream, which records every request it gets.
struct PprofServer: TestResource {
    let process: ChildProcess
    let port: Int
    /// Set when the server speaks HTTPS and requires client certificates from this set.
    let tls: UpstreamCertificates?

    /// The value for the proxy's `--upstream`.
    var upstreamURL: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)/" }

    /// Starts the server in plain HTTP/1.1, or with `-h2c` and such in `arguments`; with `tls`, it
    /// serves HTTPS with `tls`'s serving certificate and requires client certificates from its CA.
    static func start(arguments: [String] = [], tls: UpstreamCertificates? = nil) async throws -> PprofServer {
        let executable = try await GoProgramBuilder.shared.executable(for: .pprofServer)
        let tlsArguments = tls.map {
            ["-tls-cert", $0.serverCertificate, "-tls-key", $0.serverKey, "-client-ca", $0.certificateAuthority]
        } ?? []
        let process = try ChildProcess.launch(executable, arguments: ["-addr", "127.0.0.1:0"] + tlsArguments + arguments)
        do {
            let line = try await process.waitForLine(containing: ListeningAddress.marker, in: .stdout, timeout: .seconds(10))
            return PprofServer(process: process, port: try ListeningAddress.port(in: line), tls: tls)
        } catch {
            await process.tearDown()
            throw error
        }
    }

    /// A request to one of the server's control endpoints, with its client certificate if it needs one.
    private func control(_ path: String, method: String? = nil) -> CurlRequest {
        var control = CurlRequest(url: upstreamURL + path, method: method)
        if let tls {
            control.caCertificate = tls.certificateAuthority
            control.clientCertificate = IssuedCertificate(certificate: tls.clientCertificate, privateKey: tls.clientKey)
        }
        return control
    }

    /// From now on `/debug/pprof/profile` answers 200 with bytes that are not a profile (`garbage`),
    /// or real profiles again.
    func answerCPUProfiles(withGarbage garbage: Bool) async throws {
        let response = try await Curl.perform(control("control/cpu-profile?answer=\(garbage ? "garbage" : "real")", method: "POST"))
        guard response.status == 204 else {
            throw EndToEndError("pprof-server /control/cpu-profile: \(response.summary)")
        }
    }

    /// Every request received so far, in arrival order.
    func requests() async throws -> [UpstreamRequest] {
        let response = try await Curl.perform(control("control/requests"))
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
