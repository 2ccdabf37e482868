/// The identity of an authenticated caller, as Kubernetes describes a user.
public struct UserInfo: Sendable, Hashable, Codable {
    /// The group every authenticated user belongs to, added by the apiserver and by this proxy.
    public static let authenticatedGroup = "system:authenticated"

    public var name: String
    public var uid: String
    public var groups: [String]
    public var extra: [String: [String]]

    public init(name: String, uid: String = "", groups: [String] = [], extra: [String: [String]] = [:]) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    /// This user with `system:authenticated` among its groups, as the Kubernetes authentication filter adds it.
    public func addingAuthenticatedGroup() -> UserInfo {
        guard !groups.contains(Self.authenticatedGroup) else { return self }
        var copy = self
        copy.groups.append(Self.authenticatedGroup)
        return copy
    }
}
