/// A `v1 Status` object: what the apiserver answers instead of a review when the call itself fails.
package struct KubernetesStatus: Codable, Sendable, Hashable {
    package var kind: String?
    package var apiVersion: String?
    package var status: String?
    package var message: String?
    package var reason: String?
    package var code: Int?
}
