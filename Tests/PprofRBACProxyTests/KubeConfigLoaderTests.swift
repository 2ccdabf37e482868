import Foundation
import Testing

@testable import PprofRBACProxy

@Suite("KubeConfigLoader")
struct KubeConfigLoaderTests {
    private static let token = "kubeconfig-secret-token-3b1f0c"

    /// A kubeconfig with one context `test` → cluster `test-cluster` and user `test-user`.
    private static func kubeconfig(cluster: String, user: String? = nil, currentContext: String = "test") -> String {
        var text = """
            apiVersion: v1
            kind: Config
            current-context: \(currentContext)
            clusters:
            - name: test-cluster
              cluster:
            \(indented(cluster, by: 4))
            contexts:
            - name: test
              context:
                cluster: test-cluster

            """
        if let user {
            text += """
                    user: test-user
                users:
                - name: test-user
                  user:
                \(indented(user, by: 4))

                """
        }
        return text
    }

    private static func indented(_ text: String, by spaces: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String(repeating: " ", count: spaces) + $0 }
            .joined(separator: "\n")
    }

    private static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }

    // MARK: - Good files

    @Test func literalToken() throws {
        try withKubeconfig(Self.kubeconfig(cluster: "server: https://10.0.0.1:6443", user: "token: \(Self.token)")) {
            path, _ in
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.server == URL(string: "https://10.0.0.1:6443"))
            #expect(connection.bearerToken == .literal(Self.token))
            #expect(connection.caCertificatesPEM == nil)
            #expect(!connection.insecureSkipTLSVerify)
            #expect(connection.clientCertificatePEM == nil)
            #expect(!connection.description.contains(Self.token))
        }
    }

    @Test func tokenFileRelativeToTheKubeconfig() throws {
        try withKubeconfig(Self.kubeconfig(cluster: "server: https://k8s.example:6443", user: "tokenFile: secrets/token"))
        { path, directory in
            let tokenPath = try directory.write("\(Self.token)\n", to: "secrets/token")
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.bearerToken == .file(path: tokenPath))
        }
    }

    @Test func tokenFileWinsOverToken() throws {
        let user = "token: \(Self.token)\ntokenFile: token"
        try withKubeconfig(Self.kubeconfig(cluster: "server: https://k8s.example", user: user)) { path, directory in
            let tokenPath = try directory.write("from-file", to: "token")
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.bearerToken == .file(path: tokenPath))
        }
    }

    @Test func certificateAuthorityPathRelativeToTheKubeconfig() throws {
        let caPEM = try TestCertificateAuthority().certificatePEM
        let cluster = "server: https://k8s.example\ncertificate-authority: pki/ca.crt"
        try withKubeconfig(Self.kubeconfig(cluster: cluster)) { path, directory in
            try directory.write(caPEM, to: "pki/ca.crt")
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.caCertificatesPEM == Array(caPEM.utf8))
            #expect(connection.bearerToken == .none)
        }
    }

    @Test func certificateAuthorityData() throws {
        let caPEM = try TestCertificateAuthority().certificatePEM
        let cluster = "server: https://k8s.example\ncertificate-authority-data: \(Self.base64(caPEM))"
        try withKubeconfig(Self.kubeconfig(cluster: cluster)) { path, _ in
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.caCertificatesPEM == Array(caPEM.utf8))
        }
    }

    @Test func clientCertificateData() throws {
        let client = try TestCertificateAuthority().issueClientCertificate(commonName: "proxy")
        let user = """
            client-certificate-data: \(Self.base64(client.certificatePEM))
            client-key-data: \(Self.base64(client.privateKeyPEM))
            """
        try withKubeconfig(Self.kubeconfig(cluster: "server: https://k8s.example", user: user)) { path, _ in
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.clientCertificatePEM == Array(client.certificatePEM.utf8))
            #expect(connection.clientKeyPEM == Array(client.privateKeyPEM.utf8))
            #expect(connection.bearerToken == .none)
            #expect(!connection.description.contains("PRIVATE KEY"))
        }
    }

    @Test func clientCertificateFiles() throws {
        let client = try TestCertificateAuthority().issueClientCertificate(commonName: "proxy")
        let user = "client-certificate: client.crt\nclient-key: client.key"
        try withKubeconfig(Self.kubeconfig(cluster: "server: https://k8s.example", user: user)) { path, directory in
            try directory.write(client.certificatePEM, to: "client.crt")
            try directory.write(client.privateKeyPEM, to: "client.key")
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.clientCertificatePEM == Array(client.certificatePEM.utf8))
            #expect(connection.clientKeyPEM == Array(client.privateKeyPEM.utf8))
        }
    }

    @Test func insecureSkipTLSVerify() throws {
        let cluster = "server: https://k8s.example\ninsecure-skip-tls-verify: true"
        try withKubeconfig(Self.kubeconfig(cluster: cluster)) { path, _ in
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.insecureSkipTLSVerify)
            #expect(connection.caCertificatesPEM == nil)
        }
    }

    @Test("Plain http is accepted for loopback hosts", arguments: [
        "http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "http://127.1.2.3",
    ])
    func plainHTTPOnLoopback(server: String) throws {
        try withKubeconfig(Self.kubeconfig(cluster: "server: \(server)")) { path, _ in
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.server == URL(string: server))
        }
    }

    @Test func contextWithoutUserHasNoCredentials() throws {
        try withKubeconfig(Self.kubeconfig(cluster: "server: https://k8s.example")) { path, _ in
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.bearerToken == .none)
            #expect(connection.clientCertificatePEM == nil)
        }
    }

    @Test func unknownFieldsAreIgnored() throws {
        let cluster = "server: https://k8s.example\nextensions:\n- name: x\n  extension: {a: 1}"
        let user = "token: \(Self.token)\nas-user-extra: {}"
        try withKubeconfig(Self.kubeconfig(cluster: cluster, user: user) + "preferences: {colors: true}\n") { path, _ in
            let connection = try KubeConfigLoader.load(path: path)
            #expect(connection.bearerToken == .literal(Self.token))
        }
    }

    // MARK: - Bad files

    @Test func missingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/absent"
        let error = try #require(throws: KubeConfigError.self) { try KubeConfigLoader.load(path: path) }
        #expect(error == .unreadable(path: path, reason: "No such file or directory"))
        #expect(error.description.contains(path))
    }

    @Test func unreadableFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let error = try #require(throws: KubeConfigError.self) { try KubeConfigLoader.load(path: directory.path) }
        #expect(error == .unreadable(path: directory.path, reason: "Is a directory"))
    }

    @Test func notYAMLAndTheOffendingLineIsNotQuoted() throws {
        let text = "current-context: test\nusers:\n- name: u\n  user:\n    token: \"\(Self.token)\n"
        let error = try loadError(text)
        guard case .notYAML = error else {
            Issue.record("expected .notYAML, got \(error)")
            return
        }
        #expect(error.description.contains("not valid YAML"))
        #expect(!error.description.contains(Self.token))
    }

    @Test func emptyFile() throws {
        let error = try loadError("\n  \n")
        #expect(error.description.hasSuffix("not a valid kubeconfig: the file is empty"))
    }

    @Test("YAML of the wrong shape", arguments: [
        ("- just\n- a list\n", "the document must be a mapping"),
        ("clusters: not-a-list\n", "clusters must be a list"),
        ("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: perhaps\n", "clusters[0].cluster.insecure-skip-tls-verify must be true or false"),
        ("contexts:\n- context: {cluster: c}\n", "contexts[0] has no name"),
    ])
    func wrongShape(text: String, detail: String) throws {
        let error = try loadError(text)
        guard case .malformed(_, let actual) = error else {
            Issue.record("expected .malformed, got \(error)")
            return
        }
        #expect(actual == detail)
    }

    @Test func noCurrentContext() throws {
        let text = Self.kubeconfig(cluster: "server: https://k8s.example", currentContext: "\"\"")
        let (error, path) = try loadErrorAndPath(text)
        #expect(error == .noCurrentContext(path: path))
        #expect(error.description.contains("no current-context"))
    }

    @Test func contextNotFound() throws {
        let text = Self.kubeconfig(cluster: "server: https://k8s.example", currentContext: "prod")
        let (error, path) = try loadErrorAndPath(text)
        #expect(error == .contextNotFound(path: path, context: "prod"))
        #expect(error.description.contains("current-context \"prod\" is not among the contexts"))
    }

    @Test func clusterNotFound() throws {
        let text = """
            current-context: test
            contexts:
            - name: test
              context: {cluster: elsewhere}
            """
        let (error, path) = try loadErrorAndPath(text)
        #expect(error == .clusterNotFound(path: path, cluster: "elsewhere", context: "test"))
        #expect(error.description.contains("cluster \"elsewhere\" of context \"test\" is not among the clusters"))
    }

    @Test func contextWithoutCluster() throws {
        let (error, path) = try loadErrorAndPath("current-context: test\ncontexts:\n- name: test\n  context: {}\n")
        #expect(error == .clusterNotFound(path: path, cluster: "", context: "test"))
        #expect(error.description.contains("context \"test\" names no cluster"))
    }

    @Test func userNotFound() throws {
        let text = Self.kubeconfig(cluster: "server: https://k8s.example")
            .replacingOccurrences(of: "cluster: test-cluster\n", with: "cluster: test-cluster\n    user: ghost\n")
        let (error, path) = try loadErrorAndPath(text)
        #expect(error == .userNotFound(path: path, user: "ghost", context: "test"))
    }

    @Test func missingServer() throws {
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: "insecure-skip-tls-verify: true"))
        #expect(error == .missingServer(path: path, cluster: "test-cluster"))
        #expect(error.description.contains("cluster \"test-cluster\" has no server"))
    }

    @Test("Unusable servers", arguments: [
        ("http://10.0.0.1:8080", "plain http is only allowed to a loopback host; use https"),
        ("http://k8s.example", "plain http is only allowed to a loopback host; use https"),
        ("ftp://k8s.example", "the scheme must be https"),
        ("k8s.example:6443", "not an absolute URL such as https://host:6443"),
        ("https://k8s.example/?watch=1", "it must not have a query or a fragment"),
    ])
    func unusableServer(server: String, reason: String) throws {
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: "server: \(server)"))
        #expect(error == .invalidServer(path: path, cluster: "test-cluster", server: server, reason: reason))
    }

    @Test func serverWithCredentialsIsRefusedWithoutShowingThem() throws {
        let error = try loadError(Self.kubeconfig(cluster: "server: https://admin:\(Self.token)@k8s.example"))
        guard case .invalidServer(_, _, let server, let reason) = error else {
            Issue.record("expected .invalidServer, got \(error)")
            return
        }
        #expect(reason == "it must not contain user information")
        #expect(server == "https://k8s.example")
        #expect(!error.description.contains(Self.token))
    }

    @Test func invalidBase64() throws {
        let cluster = "server: https://k8s.example\ncertificate-authority-data: '%%%not base64'"
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: cluster))
        #expect(error == .invalidBase64(path: path, field: "certificate-authority-data", entry: "cluster \"test-cluster\""))
    }

    @Test func base64ThatIsNotPEM() throws {
        let user = "client-certificate-data: \(Self.base64("hello"))\nclient-key-data: \(Self.base64("world"))"
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: "server: https://k8s.example", user: user))
        #expect(
            error
                == .invalidPEM(
                    path: path, field: "client-certificate-data", entry: "user \"test-user\"",
                    detail: "no PEM certificate found"
                )
        )
    }

    @Test func keyThatIsNotPEM() throws {
        let client = try TestCertificateAuthority().issueClientCertificate(commonName: "proxy")
        let user = """
            client-certificate-data: \(Self.base64(client.certificatePEM))
            client-key-data: \(Self.base64("not a key"))
            """
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: "server: https://k8s.example", user: user))
        #expect(
            error
                == .invalidPEM(
                    path: path, field: "client-key-data", entry: "user \"test-user\"",
                    detail: "no unencrypted PEM private key found"
                )
        )
    }

    @Test func certificateAuthorityFileThatIsNotPEM() throws {
        let cluster = "server: https://k8s.example\ncertificate-authority: ca.crt"
        try withKubeconfig(Self.kubeconfig(cluster: cluster)) { path, directory in
            try directory.write("not a certificate", to: "ca.crt")
            let error = try #require(throws: KubeConfigError.self) { try KubeConfigLoader.load(path: path) }
            #expect(
                error
                    == .invalidPEM(
                        path: path, field: "certificate-authority", entry: "cluster \"test-cluster\"",
                        detail: "no PEM certificate found"
                    )
            )
        }
    }

    @Test func missingCertificateAuthorityFile() throws {
        let cluster = "server: https://k8s.example\ncertificate-authority: missing-ca.crt"
        try withKubeconfig(Self.kubeconfig(cluster: cluster)) { path, directory in
            let error = try #require(throws: KubeConfigError.self) { try KubeConfigLoader.load(path: path) }
            let resolved = directory.path + "/missing-ca.crt"
            #expect(
                error
                    == .referencedFileUnreadable(
                        path: path, field: "certificate-authority", entry: "cluster \"test-cluster\"",
                        reason: "cannot read \(resolved): No such file or directory"
                    )
            )
        }
    }

    @Test func missingTokenFile() throws {
        let user = "tokenFile: /nonexistent/token"
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: "server: https://k8s.example", user: user))
        #expect(
            error
                == .referencedFileUnreadable(
                    path: path, field: "tokenFile", entry: "user \"test-user\"",
                    reason: "cannot read /nonexistent/token: No such file or directory"
                )
        )
    }

    @Test func emptyTokenFile() throws {
        try withKubeconfig(Self.kubeconfig(cluster: "server: https://k8s.example", user: "tokenFile: token")) {
            path, directory in
            let tokenPath = try directory.write("\n", to: "token")
            let error = try #require(throws: KubeConfigError.self) { try KubeConfigLoader.load(path: path) }
            #expect(
                error
                    == .referencedFileUnreadable(
                        path: path, field: "tokenFile", entry: "user \"test-user\"",
                        reason: "cannot read \(tokenPath): the file is empty"
                    )
            )
        }
    }

    @Test func certificateWithoutKey() throws {
        let client = try TestCertificateAuthority().issueClientCertificate(commonName: "proxy")
        let user = "client-certificate-data: \(Self.base64(client.certificatePEM))"
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: "server: https://k8s.example", user: user))
        #expect(error == .incompleteClientCertificate(path: path, user: "test-user", missing: "key"))
        #expect(error.description.contains("has a client certificate but no client key"))
    }

    @Test func keyWithoutCertificate() throws {
        let client = try TestCertificateAuthority().issueClientCertificate(commonName: "proxy")
        let user = "client-key-data: \(Self.base64(client.privateKeyPEM))"
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: "server: https://k8s.example", user: user))
        #expect(error == .incompleteClientCertificate(path: path, user: "test-user", missing: "certificate"))
        #expect(error.description.contains("has a client key but no client certificate"))
    }

    @Test func certificateAuthorityWithInsecure() throws {
        let caPEM = try TestCertificateAuthority().certificatePEM
        let cluster = """
            server: https://k8s.example
            insecure-skip-tls-verify: true
            certificate-authority-data: \(Self.base64(caPEM))
            """
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: cluster))
        #expect(error == .conflictingTrust(path: path, cluster: "test-cluster"))
    }

    @Test("Unsupported user authentication", arguments: [
        ("exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: aws", "exec (a credential plugin)"),
        ("auth-provider:\n  name: gcp", "auth-provider"),
        ("username: admin\npassword: \(token)", "username and password"),
    ])
    func unsupportedUserAuthentication(user: String, method: String) throws {
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: "server: https://k8s.example", user: user))
        #expect(error == .unsupportedUserAuthentication(path: path, user: "test-user", method: method))
        #expect(error.description.contains("not supported; use token, tokenFile, or client-certificate and client-key"))
        #expect(!error.description.contains(Self.token))
    }

    @Test("Unsupported cluster settings", arguments: ["tls-server-name", "proxy-url"])
    func unsupportedClusterSetting(setting: String) throws {
        let cluster = "server: https://k8s.example\n\(setting): http://somewhere"
        let (error, path) = try loadErrorAndPath(Self.kubeconfig(cluster: cluster))
        #expect(error == .unsupportedClusterSetting(path: path, cluster: "test-cluster", setting: setting))
    }

    // MARK: - Helpers

    private func withKubeconfig(_ text: String, _ body: (String, TemporaryDirectory) throws -> Void) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(text, to: "config")
        try body(path, directory)
    }

    private func loadErrorAndPath(_ text: String) throws -> (KubeConfigError, String) {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(text, to: "config")
        let error = try #require(throws: KubeConfigError.self) { try KubeConfigLoader.load(path: path) }
        #expect(!error.description.contains(Self.token))
        return (error, path)
    }

    private func loadError(_ text: String) throws -> KubeConfigError {
        try loadErrorAndPath(text).0
    }
}
