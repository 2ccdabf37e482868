/// The two Kubernetes API calls the proxy makes; the seam that lets the gate be tested without a cluster.
package protocol KubernetesReviewClient: Sendable {
    /// Creates a TokenReview and returns the apiserver's status. Throws `KubernetesAPIError`.
    func createTokenReview(_ spec: TokenReviewSpec) async throws -> TokenReviewStatus
    /// Creates a SubjectAccessReview and returns the apiserver's status. Throws `KubernetesAPIError`.
    func createSubjectAccessReview(_ spec: SubjectAccessReviewSpec) async throws -> SubjectAccessReviewStatus
}

/// Why a Kubernetes API call did not produce a review. Every case means "cannot decide now" (503).
package enum KubernetesAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No connection could be made (refused, DNS, TLS handshake or certificate failure).
    case unreachable(String)
    /// No answer within `--kube-api-timeout`.
    case timedOut
    /// The apiserver answered with a status other than 200/201 (a `Status` object's message, if any).
    case unexpectedStatus(code: Int, message: String)
    /// The answer could not be decoded as the expected review.
    case invalidResponse(String)

    package var description: String {
        switch self {
        case .unreachable(let detail): "Kubernetes API unreachable: \(detail)"
        case .timedOut: "Kubernetes API call timed out"
        case .unexpectedStatus(let code, let message): "Kubernetes API answered \(code): \(message)"
        case .invalidResponse(let detail): "Kubernetes API answer not understood: \(detail)"
        }
    }
}
