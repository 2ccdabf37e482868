import RequestPolicy

/// Authorizes with a Kubernetes SubjectAccessReview, as the apiserver's webhook authorizer does.
package struct SubjectAccessReviewAuthorizer: Authorizer {
    private let client: any KubernetesReviewClient

    package init(client: any KubernetesReviewClient) {
        self.client = client
    }

    package func authorize(_ attributes: AuthorizationAttributes) async throws -> AuthorizationDecision {
        let status = try await client.createSubjectAccessReview(SubjectAccessReviewSpec(attributes))
        let origin = DecisionOrigin(.subjectAccessReview)
        if status.allowed && status.denied != true {
            return .allowed(origin: origin)
        }
        if status.denied == true || status.allowed {
            return .denied(reason: status.reason ?? "", origin: origin)
        }
        return .noOpinion
    }
}
