/// The identity headers sent upstream (`--auth-header-*`). Inbound copies of these names (and of the
/// defaults, and every `X-Remote-Extra-*`) are always removed, whether the feature is on or off, so
/// nobody can claim an identity the proxy did not establish.
package struct IdentityHeaders: Sendable, Hashable {
    /// `--auth-header-fields-enabled`.
    package var enabled = false
    /// `--auth-header-user-field-name`.
    package var userHeader = "x-remote-user"
    /// `--auth-header-groups-field-name`.
    package var groupsHeader = "x-remote-groups"
    /// `--auth-header-groups-field-separator`.
    package var groupsSeparator = "|"

    package init() {}
}
