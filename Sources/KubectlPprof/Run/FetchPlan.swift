import Foundation

/// What one fetch of a run does: the pod (reached through a port-forward) or a URL, the endpoint
/// to verify, and the file it writes.
struct FetchPlan: Sendable {
    /// `pod/NAME`, or the URL's `HOST:PORT`.
    var label: String
    /// The pod to port-forward to; nil for `--url`.
    var pod: ProfiledPod?
    /// The connection; for a pod its port is replaced by the forward's local port.
    var endpoint: ProxyEndpoint
    var file: String

    /// Where the profile is written while it arrives; renamed to `file` once complete, so a
    /// failed fetch leaves an earlier file of that name as it was.
    var partialFile: String { file + ".partial" }

    /// A plan for `--url url`.
    static func direct(_ url: String, options: PluginOptions) -> FetchPlan {
        let components = URLComponents(string: url)
        let host = components?.host ?? "localhost"
        let port = components?.port ?? 443
        let endpoint = ProxyEndpoint(
            host: host, port: port, serverName: options.tlsServerName ?? host, caCertificatePath: options.caCertificate,
            insecureSkipTLSVerify: options.insecureSkipTLSVerify)
        let label = "\(host):\(port)"
        let file = options.output ?? defaultName(subject: host, profile: options.profile, debug: options.debug, stamp: timestamp(Date()))
        return FetchPlan(label: label, pod: nil, endpoint: endpoint, file: file)
    }

    /// A plan for `pod`: verified against `--tls-server-name`, else the Service in front of it, else localhost.
    static func forPod(_ pod: ProfiledPod, options: PluginOptions, stamp: String) -> FetchPlan {
        let endpoint = ProxyEndpoint(
            host: "127.0.0.1", port: pod.port, serverName: options.tlsServerName ?? pod.serviceName ?? "localhost",
            caCertificatePath: options.caCertificate, insecureSkipTLSVerify: options.insecureSkipTLSVerify)
        let file = options.output ?? defaultName(subject: pod.name, profile: options.profile, debug: options.debug, stamp: stamp)
        return FetchPlan(label: "pod/\(pod.name)", pod: pod, endpoint: endpoint, file: file)
    }

    /// `POD-PROFILE-YYYYMMDDTHHMMSS.pb.gz` (`.out` for a trace, `.txt` for text).
    static func defaultName(subject: String, profile: ProfileKind, debug: Int?, stamp: String) -> String {
        "\(subject)-\(profile.rawValue)-\(stamp)\(profile.fileExtension(debug: debug))"
    }

    /// Local time as `20261203T174455`.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        return formatter.string(from: date)
    }
}
