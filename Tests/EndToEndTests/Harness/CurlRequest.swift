/// One request for curl to make.
struct CurlRequest: Sendable {
    var url: String
    var bearerToken: String? = nil
    var httpVersion: HTTPVersion = .http1_1
    var method: String? = nil
    var headers: [String] = []
    var body: String? = nil
    /// curl gives up (exit 28) after this long.
    var maxTime: Duration = .seconds(30)
    /// The CA to verify the server with; nil means `-k` (the proxy's self-signed certificate).
    var caCertificate: String? = nil
    /// A client certificate and key to present (mTLS).
    var clientCertificate: IssuedCertificate? = nil
    /// curl `--resolve` entries, `host:port:address`: reach a certificate's DNS name on loopback.
    var resolve: [String] = []
    /// More curl options, passed as they are (e.g. `--limit-rate 100K`).
    var extraArguments: [String] = []

    /// The command-line arguments, minus the output options `Curl` adds.
    var arguments: [String] {
        var arguments = ["-sS", "--path-as-is", httpVersion.curlFlag, "--max-time", String(maxTime.inSeconds)]
        if let caCertificate {
            arguments += ["--cacert", caCertificate]
        } else {
            arguments.append("-k")
        }
        if let clientCertificate {
            arguments += ["--cert", clientCertificate.certificate, "--key", clientCertificate.privateKey]
        }
        for entry in resolve {
            arguments += ["--resolve", entry]
        }
        if let bearerToken {
            arguments += ["-H", "Authorization: Bearer \(bearerToken)"]
        }
        for header in headers {
            arguments += ["-H", header]
        }
        if let method {
            arguments += ["-X", method]
        }
        if let body {
            arguments += ["--data-binary", body]
        }
        return arguments + extraArguments
    }
}
