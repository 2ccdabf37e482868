/// The identity of an authenticated caller, as Kubernetes describes a user.
package struct UserInfo: Sendable, Hashable, Codable {
    /// The group every authenticated user belongs to, added by the apiserver and by this proxy.
    package static let authenticatedGroup = "system:authenticated"

    package var name: String
    package var uid: String
    package var groups: [String]
    package var extra: [String: [String]]

    package init(name: String, uid: String = "", groups: [String] = [], extra: [String: [String]] = [:]) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    /// This user with `system:authenticated` among its groups, as the Kubernetes authentication filter adds it.
    package func addingAuthenticatedGroup() -> UserInfo {
        guard !groups.contains(Self.authenticatedGroup) else { return self }
        var copy = self
        copy.groups.append(Self.authenticatedGroup)
        return copy
    }
}
