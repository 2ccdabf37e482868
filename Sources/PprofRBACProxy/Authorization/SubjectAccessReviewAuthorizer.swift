/// Authorizes with a Kubernetes SubjectAccessReview, as the apiserver's webhook authorizer does.
public struct SubjectAccessReviewAuthorizer: Authorizer {
    private let client: any KubernetesReviewClient

    public init(client: any KubernetesReviewClient) {
        self.client = client
    }

    public func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        let status = try await client.createSubjectAccessReview(SubjectAccessReviewSpec(attributes))
        if status.allowed && status.denied != true {
            return .allowed
        }
        if status.denied == true || status.allowed {
            return .denied(reason: status.reason ?? "")
        }
        return .noOpinion
    }
}
