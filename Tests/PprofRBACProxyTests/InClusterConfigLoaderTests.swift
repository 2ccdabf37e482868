import Foundation
import Testing

@testable import PprofRBACProxy

@Suite("InClusterConfigLoader")
struct InClusterConfigLoaderTests {
    private static let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]

    @Test func defaultDirectoryIsTheServiceAccountMount() {
        #expect(InClusterConfigLoader.defaultServiceAccountDirectory == "/var/run/secrets/kubernetes.io/serviceaccount")
    }

    @Test("No cluster when the service variables are absent or empty", arguments: [
        [:], ["HOME": "/root"], ["KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": ""],
    ])
    func notInCluster(environment: [String: String]) throws {
        #expect(try InClusterConfigLoader.load(environment: environment, serviceAccountDirectory: "/nonexistent") == nil)
    }

    @Test func serviceAccount() throws {
        try withServiceAccount { directory, caPEM in
            let connection = try #require(
                try InClusterConfigLoader.load(environment: Self.environment, serviceAccountDirectory: directory.path)
            )
            #expect(connection.server == URL(string: "https://10.96.0.1:443"))
            #expect(connection.caCertificatesPEM == Array(caPEM.utf8))
            #expect(!connection.insecureSkipTLSVerify)
            #expect(connection.clientCertificatePEM == nil)
            #expect(connection.bearerToken == .file(path: directory.path + "/token"))
        }
    }

    @Test func ipv6HostGetsBrackets() throws {
        try withServiceAccount { directory, _ in
            let environment = ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443"]
            let connection = try #require(
                try InClusterConfigLoader.load(environment: environment, serviceAccountDirectory: directory.path)
            )
            #expect(connection.server.absoluteString == "https://[fd00:10:96::1]:6443")
            #expect(connection.server.port == 6443)
        }
    }

    @Test("Only one of the two variables", arguments: [
        ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"), ("KUBERNETES_SERVICE_PORT", "KUBERNETES_SERVICE_HOST"),
    ])
    func incompleteEnvironment(present: String, missing: String) throws {
        let error = try #require(throws: InClusterConfigError.self) {
            try InClusterConfigLoader.load(environment: [present: "443"], serviceAccountDirectory: "/nonexistent")
        }
        #expect(error == .incompleteEnvironment(present: present, missing: missing))
        #expect(error.description.contains("\(present) is set but \(missing) is not"))
    }

    @Test("Unusable port", arguments: ["https", "0", "70000", "-1"])
    func invalidPort(port: String) throws {
        let error = try #require(throws: InClusterConfigError.self) {
            try InClusterConfigLoader.load(
                environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": port],
                serviceAccountDirectory: "/nonexistent"
            )
        }
        #expect(error == .invalidAddress(host: "10.96.0.1", port: port))
    }

    @Test func missingToken() throws {
        try withServiceAccount(token: nil) { directory, _ in
            let error = try #require(throws: InClusterConfigError.self) {
                try InClusterConfigLoader.load(environment: Self.environment, serviceAccountDirectory: directory.path)
            }
            #expect(error == .tokenUnreadable(path: directory.path + "/token", reason: "No such file or directory"))
            #expect(error.description.contains("automountServiceAccountToken"))
        }
    }

    @Test func emptyToken() throws {
        try withServiceAccount(token: "\n") { directory, _ in
            let error = try #require(throws: InClusterConfigError.self) {
                try InClusterConfigLoader.load(environment: Self.environment, serviceAccountDirectory: directory.path)
            }
            #expect(error == .tokenUnreadable(path: directory.path + "/token", reason: "the file is empty"))
        }
    }

    @Test func missingCertificateAuthority() throws {
        try withServiceAccount(writeCA: false) { directory, _ in
            let error = try #require(throws: InClusterConfigError.self) {
                try InClusterConfigLoader.load(environment: Self.environment, serviceAccountDirectory: directory.path)
            }
            #expect(
                error
                    == .certificateAuthorityUnreadable(path: directory.path + "/ca.crt", reason: "No such file or directory")
            )
        }
    }

    @Test func certificateAuthorityThatIsNotPEM() throws {
        try withServiceAccount { directory, _ in
            try directory.write("not a certificate", to: "ca.crt")
            let error = try #require(throws: InClusterConfigError.self) {
                try InClusterConfigLoader.load(environment: Self.environment, serviceAccountDirectory: directory.path)
            }
            #expect(
                error == .invalidCertificateAuthority(path: directory.path + "/ca.crt", detail: "no PEM certificate found")
            )
        }
    }

    @Test func tokenNeverInTheDescription() throws {
        try withServiceAccount(token: "in-cluster-secret") { directory, _ in
            let connection = try #require(
                try InClusterConfigLoader.load(environment: Self.environment, serviceAccountDirectory: directory.path)
            )
            #expect(!connection.description.contains("in-cluster-secret"))
        }
    }

    // MARK: - Helpers

    /// A directory laid out like the kubelet's service-account mount.
    private func withServiceAccount(
        token: String? = "eyJhbGciOiJSUzI1NiJ9.payload.signature\n",
        writeCA: Bool = true,
        _ body: (TemporaryDirectory, String) throws -> Void
    ) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let caPEM = try TestCertificateAuthority().certificatePEM
        if let token {
            try directory.write(token, to: "token")
        }
        if writeCA {
            try directory.write(caPEM, to: "ca.crt")
        }
        try directory.write("default", to: "namespace")
        try body(directory, caPEM)
    }
}
