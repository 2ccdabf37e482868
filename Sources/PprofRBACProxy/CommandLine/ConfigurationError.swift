/// Why the proxy cannot start with the configuration it was given; every case says what to fix.
package enum ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingFlag(flag: String, hint: String)
    case invalidFlag(flag: String, value: String, reason: String)
    case unreadableFile(flag: String, path: String, reason: String)
    case invalidConfigFile(path: String, reason: String)
    case invalidTokenFile(path: String, reason: String)
    case noKubernetesConnection
    /// `---flag`, `--=value` and the like.
    case badFlagSyntax(String)
    case unknownFlag(String)
    case unknownShorthandFlag(Character, in: String)
    case flagNeedsArgument(String)
    /// A positional argument; `hint` says what was probably meant.
    case unexpectedArgument(String, hint: String)
    case conflictingFlags(String, String)
    /// A kube-rbac-proxy flag this proxy refuses rather than ignores.
    case unsupportedFlag(flag: String, reason: String)
    /// Neither `--secure-listen-address` nor `--insecure-listen-address`.
    case noListenAddress

    package var description: String {
        switch self {
        case .missingFlag(let flag, let hint):
            "\(flag) is required: \(hint)"
        case .invalidFlag(let flag, let value, let reason):
            "invalid value \"\(value)\" for \(flag): \(reason)"
        case .unreadableFile(let flag, let path, let reason):
            "cannot read \(flag) \(path): \(reason)"
        case .invalidConfigFile(let path, let reason):
            "invalid config file \(path): \(reason)"
        case .invalidTokenFile(let path, let reason):
            "invalid token file \(path): \(reason)"
        case .noKubernetesConnection:
            "no Kubernetes API to ask: pass --kubeconfig FILE, run in a pod (KUBERNETES_SERVICE_HOST), "
                + "or run locally with --token-auth-file FILE and --config-file FILE (static rules)"
        case .badFlagSyntax(let argument):
            "bad flag syntax: \(argument)"
        case .unknownFlag(let flag):
            "unknown flag: \(flag)"
        case .unknownShorthandFlag(let letter, let argument):
            "unknown shorthand flag: '\(letter)' in \(argument)"
        case .flagNeedsArgument(let flag):
            "flag needs an argument: \(flag)"
        case .unexpectedArgument(let argument, let hint):
            "unexpected argument \"\(argument)\": \(hint)"
        case .conflictingFlags(let first, let second):
            "cannot use \(first) and \(second) together"
        case .unsupportedFlag(let flag, let reason):
            "\(flag): \(reason)"
        case .noListenAddress:
            "no listen address provided: pass --secure-listen-address HOST:PORT"
        }
    }
}

extension ConfigurationError {
    /// The UTF-8 text of the file a flag names, or the error that says why it cannot be read.
    static func readText(flag: String, path: String) throws(ConfigurationError) -> String {
        do {
            return String(decoding: try LocalFile.contents(atPath: path), as: UTF8.self)
        } catch {
            throw .unreadableFile(flag: flag, path: path, reason: error.reason)
        }
    }
}
