import NIOCore
import NIOPosix

/// One thing `/readyz` depends on.
public protocol ReadinessCheck: Sendable {
    /// Why it is not ready, or nil when it is.
    func problem() async -> String?
}

/// Ready while a TCP connection to the upstream can be opened.
struct UpstreamReachability: ReadinessCheck {
    let target: UpstreamTarget
    let eventLoopGroup: any EventLoopGroup
    var timeout: TimeAmount = .seconds(2)

    func problem() async -> String? {
        do {
            let channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(timeout)
                .connect(host: target.host, port: target.port)
                .get()
            try? await channel.close()
            return nil
        } catch {
            return "upstream \(target.hostHeader) unreachable: \(error)"
        }
    }
}

/// Ready while the Kubernetes API server answers.
struct KubernetesAPIReachability: ReadinessCheck {
    let client: KubernetesAPIClient

    func problem() async -> String? {
        await client.reachabilityProblem()
    }
}
