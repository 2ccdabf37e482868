/// A `v1 Status` object: what the apiserver answers instead of a review when the call itself fails.
public struct KubernetesStatus: Codable, Sendable, Hashable {
    public var kind: String?
    public var apiVersion: String?
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
}
