import Foundation

/// Picks the current context's cluster and user out of a parsed kubeconfig and checks everything they refer to.
struct KubeConfigResolver {
    /// Certificate or key bytes and the kubeconfig field they came from.
    private struct Material {
        var bytes: [UInt8]
        var field: String
    }

    /// The kubeconfig file's path: named in errors and the base of relative paths.
    let path: String
    let document: KubeConfigFile

    /// The current context's cluster and user; a user with an `exec` plugin is refused (the proxy runs none).
    func connection() throws(KubeConfigError) -> KubernetesConnection {
        let selection = try selection()
        if selection.exec != nil {
            throw .unsupportedUserAuthentication(path: path, user: selection.userName, method: "exec (a credential plugin)")
        }
        return selection.connection
    }

    /// Context `name` (by default `current-context`): its cluster, user, namespace and exec plugin.
    func selection(context name: String? = nil) throws(KubeConfigError) -> KubeConfigSelection {
        let contextName: String
        if let name, !name.isEmpty {
            contextName = name
        } else if let current = document.currentContext, !current.isEmpty {
            contextName = current
        } else {
            throw .noCurrentContext(path: path)
        }
        guard let context = document.contexts?.first(where: { $0.name == contextName }) else {
            throw .contextNotFound(path: path, context: contextName)
        }
        let clusterName = context.context?.cluster ?? ""
        guard !clusterName.isEmpty,
            let namedCluster = document.clusters?.first(where: { $0.name == clusterName })
        else {
            throw .clusterNotFound(path: path, cluster: clusterName, context: contextName)
        }
        let cluster = namedCluster.cluster ?? KubeConfigFile.Cluster()
        let userName = context.context?.user ?? ""
        let user = try user(named: userName, context: contextName)

        var connection = KubernetesConnection(server: try serverURL(of: cluster, named: clusterName))
        try applyTrust(of: cluster, named: clusterName, to: &connection)
        if let user {
            try applyCredentials(of: user.settings, named: user.name, to: &connection)
        }
        let namespace = context.context?.namespace.flatMap { $0.isEmpty ? nil : $0 }
        return KubeConfigSelection(
            connection: connection, contextName: contextName, userName: userName, namespace: namespace,
            exec: try user.flatMap { user throws(KubeConfigError) in try execCommand(of: user.settings, named: user.name) }
        )
    }

    /// The user's credential plugin, checked: a command and an ExecCredential version client-go reads.
    private func execCommand(of user: KubeConfigFile.User, named name: String) throws(KubeConfigError) -> ExecCredentialCommand? {
        guard let exec = user.exec else { return nil }
        guard let command = exec.command, !command.isEmpty else {
            throw .malformed(path: path, detail: "users.\(name).user.exec has no command")
        }
        let apiVersion = exec.apiVersion ?? ""
        guard ExecCredentialCommand.supportedAPIVersions.contains(apiVersion) else {
            throw .unsupportedUserAuthentication(
                path: path, user: name,
                method: "an exec plugin of apiVersion \"\(apiVersion)\" (supported: \(ExecCredentialCommand.supportedAPIVersions.joined(separator: ", ")))"
            )
        }
        return ExecCredentialCommand(
            apiVersion: apiVersion,
            command: command.contains("/") ? URL(fileURLWithPath: resolve(command)).standardizedFileURL.path : command,
            arguments: exec.args ?? [],
            environment: (exec.env ?? []).map { ($0.name, $0.value) },
            installHint: exec.installHint,
            provideClusterInfo: exec.provideClusterInfo ?? false
        )
    }

    /// The context's user, or nil when the context names none or the user has no settings (no credentials).
    private func user(
        named name: String, context: String
    ) throws(KubeConfigError) -> (name: String, settings: KubeConfigFile.User)? {
        guard !name.isEmpty else { return nil }
        guard let namedUser = document.users?.first(where: { $0.name == name }) else {
            throw .userNotFound(path: path, user: name, context: context)
        }
        return namedUser.user.map { (name, $0) }
    }

    private func serverURL(of cluster: KubeConfigFile.Cluster, named name: String) throws(KubeConfigError) -> URL {
        guard let server = cluster.server, !server.isEmpty else {
            throw .missingServer(path: path, cluster: name)
        }
        do throws(ServerURLValidator.Problem) {
            return try ServerURLValidator.validate(server)
        } catch {
            throw .invalidServer(path: path, cluster: name, server: error.displayedServer, reason: error.reason)
        }
    }

    private func applyTrust(
        of cluster: KubeConfigFile.Cluster, named name: String, to connection: inout KubernetesConnection
    ) throws(KubeConfigError) {
        if cluster.tlsServerName.isPresent {
            throw .unsupportedClusterSetting(path: path, cluster: name, setting: "tls-server-name")
        }
        if cluster.proxyURL.isPresent {
            throw .unsupportedClusterSetting(path: path, cluster: name, setting: "proxy-url")
        }
        let entry = "cluster \"\(name)\""
        let ca = try material(
            data: cluster.certificateAuthorityData, dataField: "certificate-authority-data",
            file: cluster.certificateAuthority, fileField: "certificate-authority", entry: entry
        )
        let insecure = cluster.insecureSkipTLSVerify ?? false
        if insecure && ca != nil {
            throw .conflictingTrust(path: path, cluster: name)
        }
        if let ca {
            try checkPEM(ca, entry: entry) { bytes throws(PEMMaterial.InvalidPEM) in
                _ = try PEMMaterial.certificates(bytes)
            }
        }
        connection.caCertificatesPEM = ca?.bytes
        connection.insecureSkipTLSVerify = insecure
    }

    private func applyCredentials(
        of user: KubeConfigFile.User, named name: String, to connection: inout KubernetesConnection
    ) throws(KubeConfigError) {
        if user.usesAuthProvider {
            throw .unsupportedUserAuthentication(path: path, user: name, method: "auth-provider")
        }
        if user.usesBasicAuth {
            throw .unsupportedUserAuthentication(path: path, user: name, method: "username and password")
        }
        let entry = "user \"\(name)\""
        let certificate = try material(
            data: user.clientCertificateData, dataField: "client-certificate-data",
            file: user.clientCertificate, fileField: "client-certificate", entry: entry
        )
        let key = try material(
            data: user.clientKeyData, dataField: "client-key-data",
            file: user.clientKey, fileField: "client-key", entry: entry
        )
        switch (certificate, key) {
        case (let certificate?, let key?):
            try checkPEM(certificate, entry: entry) { bytes throws(PEMMaterial.InvalidPEM) in
                _ = try PEMMaterial.certificates(bytes)
            }
            try checkPEM(key, entry: entry) { bytes throws(PEMMaterial.InvalidPEM) in
                _ = try PEMMaterial.privateKey(bytes)
            }
        case (.some, nil):
            throw .incompleteClientCertificate(path: path, user: name, missing: "key")
        case (nil, .some):
            throw .incompleteClientCertificate(path: path, user: name, missing: "certificate")
        case (nil, nil):
            break
        }
        connection.clientCertificatePEM = certificate?.bytes
        connection.clientKeyPEM = key?.bytes
        connection.bearerToken = try bearerToken(of: user, entry: entry)
    }

    private func bearerToken(
        of user: KubeConfigFile.User, entry: String
    ) throws(KubeConfigError) -> KubernetesBearerToken {
        if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
            let resolved = resolve(tokenFile)
            do throws(LocalFile.ReadError) {
                _ = try LocalFile.readTrimmedText(atPath: resolved)
            } catch {
                throw .referencedFileUnreadable(path: path, field: "tokenFile", entry: entry, reason: error.description)
            }
            return .file(path: resolved)
        }
        if let token = user.token, !token.isEmpty {
            return .literal(token)
        }
        return .none
    }

    /// The bytes of an inline base64 field, else of the referenced file, else nil.
    private func material(
        data: String?, dataField: String, file: String?, fileField: String, entry: String
    ) throws(KubeConfigError) -> Material? {
        if let data, !data.isEmpty {
            let compact = data.filter { !$0.isWhitespace }
            guard let decoded = Data(base64Encoded: compact), !decoded.isEmpty else {
                throw .invalidBase64(path: path, field: dataField, entry: entry)
            }
            return Material(bytes: Array(decoded), field: dataField)
        }
        if let file, !file.isEmpty {
            do throws(LocalFile.ReadError) {
                return Material(bytes: try LocalFile.contents(atPath: resolve(file)), field: fileField)
            } catch {
                throw .referencedFileUnreadable(path: path, field: fileField, entry: entry, reason: error.description)
            }
        }
        return nil
    }

    private func checkPEM(
        _ material: Material, entry: String, _ parse: ([UInt8]) throws(PEMMaterial.InvalidPEM) -> Void
    ) throws(KubeConfigError) {
        do {
            try parse(material.bytes)
        } catch {
            throw .invalidPEM(path: path, field: material.field, entry: entry, detail: error.detail)
        }
    }

    /// `file` as kubectl reads it: relative paths are relative to the kubeconfig's directory.
    private func resolve(_ file: String) -> String {
        guard !file.hasPrefix("/") else { return file }
        return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(file).path
    }
}

extension Optional where Wrapped == String {
    /// True when the field is set to a non-empty value.
    fileprivate var isPresent: Bool {
        guard let self else { return false }
        return !self.isEmpty
    }
}
