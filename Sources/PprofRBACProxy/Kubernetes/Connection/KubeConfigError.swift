/// Why a kubeconfig file cannot be turned into a `KubernetesConnection`. Descriptions never contain a token.
package enum KubeConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kubeconfig file itself cannot be read.
    case unreadable(path: String, reason: String)
    /// The file is not valid YAML.
    case notYAML(path: String, detail: String)
    /// The file is YAML but not shaped like a kubeconfig (a field has the wrong type, the file is empty, ...).
    case malformed(path: String, detail: String)
    /// `current-context` is missing or empty.
    case noCurrentContext(path: String)
    /// No entry of `contexts` has this name.
    case contextNotFound(path: String, context: String)
    /// The context names no cluster, or no entry of `clusters` has the name.
    case clusterNotFound(path: String, cluster: String, context: String)
    /// No entry of `users` has the name the context refers to.
    case userNotFound(path: String, user: String, context: String)
    /// The cluster has no `server`.
    case missingServer(path: String, cluster: String)
    /// The cluster's `server` is not a usable URL; `server` is shown without any user information.
    case invalidServer(path: String, cluster: String, server: String, reason: String)
    /// A `*-data` field is not valid base64.
    case invalidBase64(path: String, field: String, entry: String)
    /// A certificate or key (inline or from a file) is not usable PEM.
    case invalidPEM(path: String, field: String, entry: String, detail: String)
    /// A file the kubeconfig refers to cannot be read.
    case referencedFileUnreadable(path: String, field: String, entry: String, reason: String)
    /// The cluster sets both a certificate authority and `insecure-skip-tls-verify`, which kubectl rejects too.
    case conflictingTrust(path: String, cluster: String)
    /// The user has a client certificate without a key or a key without a certificate.
    case incompleteClientCertificate(path: String, user: String, missing: String)
    /// The user authenticates in a way this proxy does not implement (`exec`, `auth-provider`, basic auth).
    case unsupportedUserAuthentication(path: String, user: String, method: String)
    /// The cluster uses a setting this proxy does not implement (`proxy-url`, `tls-server-name`).
    case unsupportedClusterSetting(path: String, cluster: String, setting: String)

    package var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "kubeconfig \(path): cannot read the file: \(reason)"
        case .notYAML(let path, let detail):
            "kubeconfig \(path): not valid YAML: \(detail)"
        case .malformed(let path, let detail):
            "kubeconfig \(path): not a valid kubeconfig: \(detail)"
        case .noCurrentContext(let path):
            "kubeconfig \(path): no current-context is set (run `kubectl config use-context NAME --kubeconfig \(path)`)"
        case .contextNotFound(let path, let context):
            "kubeconfig \(path): current-context \"\(context)\" is not among the contexts"
        case .clusterNotFound(let path, let cluster, let context):
            cluster.isEmpty
                ? "kubeconfig \(path): context \"\(context)\" names no cluster"
                : "kubeconfig \(path): cluster \"\(cluster)\" of context \"\(context)\" is not among the clusters"
        case .userNotFound(let path, let user, let context):
            "kubeconfig \(path): user \"\(user)\" of context \"\(context)\" is not among the users"
        case .missingServer(let path, let cluster):
            "kubeconfig \(path): cluster \"\(cluster)\" has no server"
        case .invalidServer(let path, let cluster, let server, let reason):
            "kubeconfig \(path): cluster \"\(cluster)\" has an unusable server \"\(server)\": \(reason)"
        case .invalidBase64(let path, let field, let entry):
            "kubeconfig \(path): \(field) of \(entry) is not valid base64"
        case .invalidPEM(let path, let field, let entry, let detail):
            "kubeconfig \(path): \(field) of \(entry) is not usable: \(detail)"
        case .referencedFileUnreadable(let path, let field, let entry, let reason):
            "kubeconfig \(path): \(field) of \(entry): \(reason)"
        case .conflictingTrust(let path, let cluster):
            "kubeconfig \(path): cluster \"\(cluster)\" sets both a certificate authority and "
                + "insecure-skip-tls-verify; keep one"
        case .incompleteClientCertificate(let path, let user, let missing):
            "kubeconfig \(path): user \"\(user)\" has a client \(missing == "key" ? "certificate" : "key") "
                + "but no client \(missing)"
        case .unsupportedUserAuthentication(let path, let user, let method):
            "kubeconfig \(path): user \"\(user)\" authenticates with \(method), which is not supported; "
                + "use token, tokenFile, or client-certificate and client-key (or their -data forms)"
        case .unsupportedClusterSetting(let path, let cluster, let setting):
            "kubeconfig \(path): cluster \"\(cluster)\" sets \(setting), which is not supported"
        }
    }
}
