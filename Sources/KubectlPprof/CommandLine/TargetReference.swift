/// The TARGET argument: one pod, or the pods of a Deployment, as kubectl names them.
package enum TargetReference: Sendable, Hashable, CustomStringConvertible {
    case pod(String)
    case deployment(String)

    /// `pod/NAME` (`po/`, `pods/`, or a bare name as `kubectl port-forward` takes it) or
    /// `deploy/NAME` (`deployment/`, `deployments/`); nil for anything else.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 {
            guard Self.isName(parts[0]) else { return nil }
            self = .pod(parts[0])
            return
        }
        guard Self.isName(parts[1]) else { return nil }
        switch parts[0].lowercased() {
        case "pod", "pods", "po": self = .pod(parts[1])
        case "deploy", "deployment", "deployments", "deployment.apps", "deployments.apps": self = .deployment(parts[1])
        default: return nil
        }
    }

    package var description: String {
        switch self {
        case .pod(let name): "pod/\(name)"
        case .deployment(let name): "deploy/\(name)"
        }
    }

    /// A DNS-1123 subdomain, as pod and Deployment names are.
    private static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 253
            && text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x2e }
    }
}
