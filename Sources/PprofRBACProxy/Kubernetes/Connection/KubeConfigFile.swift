/// The parts of a kubeconfig document this proxy reads; other fields are ignored, as kubectl ignores them.
struct KubeConfigFile: Decodable {
    /// A `clusters` entry.
    struct NamedCluster: Decodable {
        var name: String
        var cluster: Cluster?
    }

    /// How to reach and trust one API server.
    struct Cluster: Decodable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        var tlsServerName: String?
        var proxyURL: String?

        private enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
            case proxyURL = "proxy-url"
        }
    }

    /// A `contexts` entry.
    struct NamedContext: Decodable {
        var name: String
        var context: Context?
    }

    /// A pairing of a cluster and a user, and the namespace kubectl uses by default.
    struct Context: Decodable {
        var cluster: String?
        var user: String?
        var namespace: String?
    }

    /// A credential plugin (`users[].user.exec`), as client-go runs it.
    struct Exec: Decodable {
        /// A `name`/`value` pair of `env`.
        struct Variable: Decodable {
            var name: String
            var value: String
        }

        var apiVersion: String?
        var command: String?
        var args: [String]?
        var env: [Variable]?
        var installHint: String?
        var provideClusterInfo: Bool?
    }

    /// A `users` entry.
    struct NamedUser: Decodable {
        var name: String
        var user: User?
    }

    /// How to identify to the API server; `auth-provider` and basic auth are only detected.
    struct User: Decodable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var exec: Exec?
        var usesAuthProvider: Bool
        var usesBasicAuth: Bool

        private enum CodingKeys: String, CodingKey {
            case token
            case tokenFile
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case exec
            case authProvider = "auth-provider"
            case username
            case password
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            token = try container.decodeIfPresent(String.self, forKey: .token)
            tokenFile = try container.decodeIfPresent(String.self, forKey: .tokenFile)
            clientCertificate = try container.decodeIfPresent(String.self, forKey: .clientCertificate)
            clientCertificateData = try container.decodeIfPresent(String.self, forKey: .clientCertificateData)
            clientKey = try container.decodeIfPresent(String.self, forKey: .clientKey)
            clientKeyData = try container.decodeIfPresent(String.self, forKey: .clientKeyData)
            exec = try container.decodeIfPresent(Exec.self, forKey: .exec)
            usesAuthProvider = try container.hasValue(forKey: .authProvider)
            let username = try container.decodeIfPresent(String.self, forKey: .username) ?? ""
            let password = try container.decodeIfPresent(String.self, forKey: .password) ?? ""
            usesBasicAuth = !username.isEmpty || !password.isEmpty
        }
    }

    var currentContext: String? = nil
    var clusters: [NamedCluster]?
    var contexts: [NamedContext]?
    var users: [NamedUser]?

    private enum CodingKeys: String, CodingKey {
        case currentContext = "current-context"
        case clusters
        case contexts
        case users
    }
}

extension KeyedDecodingContainer {
    /// True when the key is present with a non-null value.
    fileprivate func hasValue(forKey key: Key) throws -> Bool {
        guard contains(key) else { return false }
        return try !decodeNil(forKey: key)
    }
}
