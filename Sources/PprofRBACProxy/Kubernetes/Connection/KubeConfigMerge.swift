import Foundation

/// Several kubeconfig files read as one, as kubectl reads `KUBECONFIG=a:b`: the first file that
/// sets `current-context` sets it, and the first entry of a name wins. Relative paths are made
/// absolute against the file they are in first, so each keeps pointing where it did.
enum KubeConfigMerge {
    static func merged(_ documents: [(path: String, document: KubeConfigFile)]) -> KubeConfigFile {
        var merged = KubeConfigFile()
        for (path, document) in documents {
            let file = absolutePaths(in: document, directory: URL(fileURLWithPath: path).deletingLastPathComponent())
            if merged.currentContext?.isEmpty ?? true { merged.currentContext = file.currentContext }
            merged.clusters = (merged.clusters ?? []) + (file.clusters ?? [])
            merged.contexts = (merged.contexts ?? []) + (file.contexts ?? [])
            merged.users = (merged.users ?? []) + (file.users ?? [])
        }
        return merged
    }

    /// `document` with every file it names made absolute against `directory`.
    private static func absolutePaths(in document: KubeConfigFile, directory: URL) -> KubeConfigFile {
        func absolute(_ path: String?) -> String? {
            guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
            return directory.appendingPathComponent(path).standardizedFileURL.path
        }
        var document = document
        document.clusters = document.clusters?.map { named in
            var named = named
            if var cluster = named.cluster {
                cluster.certificateAuthority = absolute(cluster.certificateAuthority)
                named.cluster = cluster
            }
            return named
        }
        document.users = document.users?.map { named in
            var named = named
            if var user = named.user {
                user.tokenFile = absolute(user.tokenFile)
                user.clientCertificate = absolute(user.clientCertificate)
                user.clientKey = absolute(user.clientKey)
                if let command = user.exec?.command, command.contains("/") {
                    user.exec?.command = absolute(command)
                }
                named.user = user
            }
            return named
        }
        return document
    }
}
