import Foundation

/// The texts of the files the tests hand to the proxy and to the fake API server.
enum ConfigurationFiles {
    /// A kubeconfig whose current context reaches `server` with `token`, trusting `certificateAuthority`.
    static func kubeconfig(server: String, certificateAuthority: String, token: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: fake
          cluster:
            server: \(server)
            certificate-authority: \(certificateAuthority)
        users:
        - name: pprof-rbac-proxy
          user:
            token: \(token)
        contexts:
        - name: fake
          context:
            cluster: fake
            user: pprof-rbac-proxy
        current-context: fake

        """
    }

    /// A `--token-auth-file`: CSV lines `token,user,uid,"group1,group2"`.
    static func tokenAuthFile(_ users: [TestUser]) -> String {
        users.map { user in
            let groups = user.groups.filter { $0 != "system:authenticated" }.joined(separator: ",")
            return "\(user.token),\(user.username),\(user.uid),\"\(groups)\"\n"
        }.joined()
    }

    /// A `--config-file` with static authorization rules only.
    static func staticAuthorizationConfig(_ rules: [StaticAuthorizationRule]) -> String {
        "authorization:\n  static:\n" + rules.map { rule in
            """
                - user:
                    name: \(rule.user)
                  verb: \(rule.verb)
                  path: "\(rule.path)"
                  resourceRequest: false

            """
        }.joined()
    }

    /// The fake API server's `-users` JSON, keyed by token.
    static func fakeAPIServerUsers(_ users: [TestUser]) throws -> String {
        struct Entry: Encodable {
            let username: String
            let uid: String
            let groups: [String]
            let audiences: [String]
        }
        let entries = Dictionary(uniqueKeysWithValues: users.map {
            ($0.token, Entry(username: $0.username, uid: $0.uid, groups: $0.groups, audiences: $0.audiences))
        })
        return String(decoding: try JSONEncoder().encode(entries), as: UTF8.self)
    }

    /// The fake API server's `-rules` JSON.
    static func fakeAPIServerRules(_ rules: [FakeAPIServerRule]) throws -> String {
        String(decoding: try JSONEncoder().encode(rules), as: UTF8.self)
    }
}
