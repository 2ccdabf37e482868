/// Every way a `kubectl pprof` run fails, each one clear line (some with advice after it). This
/// file is the one place where they become messages and exit statuses.
package enum PluginFailure: Error, Sendable, Equatable {
    /// The kubeconfig cannot be used (its own message names the file and the field).
    case kubeconfig(String)
    /// The user's exec credential plugin failed.
    case credentialPlugin(String)
    /// A call to the Kubernetes API failed; the message says which and why.
    case kubernetesAPI(String)
    /// TARGET resolves to no pod that can be profiled.
    case noPod(String)
    /// The pod has no such port.
    case noSuchPort(String)
    /// `kubectl port-forward` did not start or broke off.
    case portForward(String)
    /// The proxy could not be reached or its TLS failed; the message says how to fix it.
    case connection(String)
    /// The proxy answered something other than 200; `advice` is what to do about it.
    case refused(status: Int, summary: String, advice: [String])
    /// Some fetches of `--all` failed (each said why as it ended).
    case someFetchesFailed(failed: Int, of: Int)
    /// The file could not be written.
    case output(String)
    /// Viewing failed (no Go, pprof would not start).
    case viewer(String)

    /// 1: something failed. (Usage errors are 2, from `PprofCommand`'s parse.)
    package var exitStatus: Int32 { 1 }

    /// What to print on standard error: the first line says what failed.
    package var lines: [String] {
        switch self {
        case .kubeconfig(let message): ["error: \(message)"]
        case .credentialPlugin(let message): ["error: the kubeconfig's credential plugin failed: \(message)"]
        case .kubernetesAPI(let message): ["error: \(message)"]
        case .noPod(let message): ["error: \(message)"]
        case .noSuchPort(let message): ["error: \(message)"]
        case .portForward(let message): ["error: kubectl port-forward: \(message)"]
        case .connection(let message): ["error: \(message)"]
        case .refused(_, let summary, let advice): ["error: \(summary)"] + advice
        case .someFetchesFailed(let failed, let all): ["error: \(failed) of \(all) fetches failed"]
        case .output(let message): ["error: \(message)"]
        case .viewer(let message): ["error: \(message)"]
        }
    }
}
