import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One thing the proxy needs to answer requests with data: the pprof upstream, the Kubernetes API.
/// Reported on `/dependencies` for people and monitoring, never in `/readyz`: while one is down the
/// proxy still answers every request (502, 503), and a failing readiness probe of the sidecar would
/// take the whole pod, the controller's webhooks too, out of every Service.
package protocol DependencyCheck: Sendable {
    /// Why it is not usable, or nil when it is.
    func problem() async -> String?
}

/// Usable while a TCP connection to the upstream can be opened.
struct UpstreamReachability: DependencyCheck {
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

/// Usable while the Kubernetes API server answers.
struct KubernetesAPIReachability: DependencyCheck {
    let client: KubernetesAPIClient

    func problem() async -> String? {
        await client.reachabilityProblem()
    }
}

/// Whether the proxy listener accepts requests: `/readyz` is ok from the moment it is bound until
/// shutdown begins.
final class ProxyReadiness: Sendable {
    private let serving = NIOLockedValueBox(false)

    var isServing: Bool { serving.withLockedValue { $0 } }

    func setServing(_ value: Bool) {
        serving.withLockedValue { $0 = value }
    }
}
