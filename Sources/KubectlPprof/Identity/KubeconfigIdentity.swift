import Foundation
import PprofRBACProxy
import X509

/// The caller's kubeconfig, read as kubectl reads it: which file and context, the namespace, the
/// credentials for the API server (an exec plugin run when the user has one), and the identity
/// presented to the proxy.
package struct KubeconfigIdentity: Sendable {
    /// How to reach the API server as the caller, exec credentials included.
    package var connection: KubernetesConnection
    package var identity: CallerIdentity
    /// `-n`, else the context's namespace, else `default`.
    package var namespace: String
    package var contextName: String

    /// `--kubeconfig`, else the files of `KUBECONFIG` (read as one), else `~/.kube/config`.
    package static func kubeconfigPaths(option: String?, environment: [String: String]) -> [String] {
        if let option, !option.isEmpty { return [option] }
        if let list = environment["KUBECONFIG"] {
            let paths = list.split(separator: ":").map(String.init)
            if !paths.isEmpty { return paths }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [home + "/.kube/config"]
    }

    /// Reads the kubeconfig of `options` and runs its exec plugin, if any.
    package static func load(
        _ options: PluginOptions, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(PluginFailure) -> KubeconfigIdentity {
        let paths = kubeconfigPaths(option: options.kubeconfig, environment: environment)
        let path = paths[0]
        let selection: KubeConfigSelection
        do {
            selection = try KubeConfigLoader.select(paths: paths, context: options.context)
        } catch {
            throw .kubeconfig(error.description)
        }
        var connection = selection.connection
        var identity = CallerIdentity(kubeconfigUser: selection.userName)
        switch connection.bearerToken {
        case .none:
            break
        case .literal(let token):
            identity.bearerToken = token
            identity.tokenSource = .kubeconfigToken(user: selection.userName)
        case .file(let tokenPath):
            do throws(LocalFile.ReadError) {
                identity.bearerToken = try LocalFile.readTrimmedText(atPath: tokenPath)
            } catch {
                throw .kubeconfig("kubeconfig \(path): tokenFile of user \"\(selection.userName)\": \(error.description)")
            }
            identity.tokenSource = .kubeconfigTokenFile(user: selection.userName, path: tokenPath)
        }
        identity.clientCertificatePEM = connection.clientCertificatePEM
        identity.clientKeyPEM = connection.clientKeyPEM
        if let exec = selection.exec, identity.bearerToken == nil, identity.clientCertificatePEM == nil {
            let runner = ExecCredentialRunner(
                command: exec, server: connection.server.absoluteString, caCertificatePEM: connection.caCertificatesPEM)
            let credential = try await runner.credential()
            if let token = credential.token {
                identity.bearerToken = token
                identity.tokenSource = .execPlugin(user: selection.userName, command: exec.command)
                connection.bearerToken = .literal(token)
            }
            if let certificate = credential.clientCertificatePEM, let key = credential.clientKeyPEM {
                identity.clientCertificatePEM = certificate
                identity.clientKeyPEM = key
                connection.clientCertificatePEM = certificate
                connection.clientKeyPEM = key
            }
        }
        identity.clientCertificateSubject = identity.clientCertificatePEM.flatMap(Self.subject)
        let namespace = options.namespace ?? selection.namespace ?? "default"
        return KubeconfigIdentity(
            connection: connection, identity: identity, namespace: namespace, contextName: selection.contextName)
    }

    /// Presents a TokenRequest token of `account` instead of the kubeconfig's own credentials.
    package mutating func useServiceAccountToken(
        of account: ServiceAccountReference, audiences: [String], from cluster: ClusterClient
    ) async throws(PluginFailure) {
        let token = try await cluster.token(for: account, audiences: audiences, seconds: 600)
        identity = CallerIdentity(
            bearerToken: token, tokenSource: .serviceAccount(account), kubeconfigUser: identity.kubeconfigUser)
    }

    /// The subject of the first certificate of `pem`, as `CN=alice,O=devs`.
    private static func subject(_ pem: [UInt8]) -> String? {
        guard let certificate = try? Certificate(pemEncoded: String(decoding: pem, as: UTF8.self)) else { return nil }
        return certificate.subject.description
    }
}
