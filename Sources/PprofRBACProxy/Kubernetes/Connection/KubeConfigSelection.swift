import Foundation

/// One context of a kubeconfig, resolved: how to reach its cluster and identify as its user, its
/// default namespace, and the credential plugin that identity needs (kubectl's view of a context).
package struct KubeConfigSelection: Sendable {
    /// The cluster and every credential the file itself holds.
    package var connection: KubernetesConnection
    package var contextName: String
    package var userName: String
    /// The context's `namespace`, nil when it sets none.
    package var namespace: String?
    /// The user's `exec` plugin, which hands out the credentials when the file holds none.
    package var exec: ExecCredentialCommand?
}

/// A kubeconfig user's credential plugin: what to run and what the ExecCredential it prints must be.
package struct ExecCredentialCommand: Sendable {
    /// `client.authentication.k8s.io/v1` or `v1beta1`.
    package var apiVersion: String
    /// The program, resolved as client-go does: a relative path with a slash is relative to the kubeconfig's directory.
    package var command: String
    package var arguments: [String]
    /// Added to the plugin's environment (after the caller's own).
    package var environment: [(name: String, value: String)]
    /// Shown when the program cannot be run.
    package var installHint: String?
    /// Whether the plugin is told the cluster's server and CA (`KUBERNETES_EXEC_INFO.spec.cluster`).
    package var provideClusterInfo: Bool

    /// The API versions of ExecCredential this reads, as client-go does today.
    package static let supportedAPIVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
}
