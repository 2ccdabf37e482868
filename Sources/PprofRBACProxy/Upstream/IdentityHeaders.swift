/// The identity headers sent upstream (`--auth-header-*`). Inbound copies of these names (and of the
/// defaults, and every `X-Remote-Extra-*`) are always removed, whether the feature is on or off, so
/// nobody can claim an identity the proxy did not establish.
public struct IdentityHeaders: Sendable, Hashable {
    /// `--auth-header-fields-enabled`.
    public var enabled = false
    /// `--auth-header-user-field-name`.
    public var userHeader = "x-remote-user"
    /// `--auth-header-groups-field-name`.
    public var groupsHeader = "x-remote-groups"
    /// `--auth-header-groups-field-separator`.
    public var groupsSeparator = "|"

    public init() {}
}
