import Foundation

/// Builds a `KubernetesConnection` from a pod's service account, as client-go's `rest.InClusterConfig` does.
package enum InClusterConfigLoader {
    /// Where the kubelet mounts the service-account token, CA bundle and namespace.
    package static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The connection to the cluster the pod runs in, or nil when `KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT` are both absent (not running in a cluster). The token is a file source,
    /// because projected service-account tokens rotate.
    package static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = defaultServiceAccountDirectory
    ) throws(InClusterConfigError) -> KubernetesConnection? {
        let hostVariable = "KUBERNETES_SERVICE_HOST"
        let portVariable = "KUBERNETES_SERVICE_PORT"
        let host = environment[hostVariable] ?? ""
        let port = environment[portVariable] ?? ""
        switch (host.isEmpty, port.isEmpty) {
        case (true, true):
            return nil
        case (false, true):
            throw .incompleteEnvironment(present: hostVariable, missing: portVariable)
        case (true, false):
            throw .incompleteEnvironment(present: portVariable, missing: hostVariable)
        case (false, false):
            break
        }
        let server = try serverURL(host: host, port: port)

        let directory = URL(fileURLWithPath: serviceAccountDirectory)
        let tokenPath = directory.appendingPathComponent("token").path
        do throws(LocalFile.ReadError) {
            _ = try LocalFile.readTrimmedText(atPath: tokenPath)
        } catch {
            throw .tokenUnreadable(path: tokenPath, reason: error.reason)
        }

        let caPath = directory.appendingPathComponent("ca.crt").path
        let caPEM: [UInt8]
        do throws(LocalFile.ReadError) {
            caPEM = try LocalFile.contents(atPath: caPath)
        } catch {
            throw .certificateAuthorityUnreadable(path: caPath, reason: error.reason)
        }
        do throws(PEMMaterial.InvalidPEM) {
            _ = try PEMMaterial.certificates(caPEM)
        } catch {
            throw .invalidCertificateAuthority(path: caPath, detail: error.detail)
        }

        return KubernetesConnection(server: server, caCertificatesPEM: caPEM, bearerToken: .file(path: tokenPath))
    }

    /// `https://host:port`, with brackets around an IPv6 host.
    private static func serverURL(host: String, port: String) throws(InClusterConfigError) -> URL {
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let portNumber = UInt16(port), portNumber > 0,
            let url = URL(string: "https://\(hostPart):\(portNumber)"), url.host != nil
        else {
            throw .invalidAddress(host: host, port: port)
        }
        return url
    }
}
