import NIOHTTP1

/// How an HTTP method becomes the verb of an authorization question (`--verb-mapping`).
package enum VerbMapping: String, Sendable, Hashable, CaseIterable {
    /// The lower-cased method, as the kube-apiserver and controller-runtime do for non-resource
    /// URLs (`get`, `post`, `head`, …), so RBAC `verbs: ["get"]` rules work. The default.
    case apiserver
    /// kube-rbac-proxy's mapping: GET→get, POST→create, PUT→update, PATCH→patch, DELETE→delete,
    /// anything else→`*`.
    case kubeRBACProxy = "kube-rbac-proxy"

    /// The verb of a non-resource question.
    package func verb(for method: HTTPMethod) -> String {
        switch self {
        case .apiserver:
            method.rawValue.lowercased()
        case .kubeRBACProxy:
            switch method {
            case .GET: "get"
            case .POST: "create"
            case .PUT: "update"
            case .PATCH: "patch"
            case .DELETE: "delete"
            default: "*"
            }
        }
    }

    /// The verb of a resource question (config-file `resourceAttributes`). `.apiserver` uses the
    /// kube-apiserver's resource verbs: GET and HEAD→get, POST→create, PUT→update, PATCH→patch,
    /// DELETE→delete, any other method lower-cased; `.kubeRBACProxy` its one mapping for both kinds.
    package func resourceVerb(for method: HTTPMethod) -> String {
        switch self {
        case .apiserver:
            switch method {
            case .GET, .HEAD: "get"
            case .POST: "create"
            case .PUT: "update"
            case .PATCH: "patch"
            case .DELETE: "delete"
            default: method.rawValue.lowercased()
            }
        case .kubeRBACProxy:
            verb(for: method)
        }
    }
}
