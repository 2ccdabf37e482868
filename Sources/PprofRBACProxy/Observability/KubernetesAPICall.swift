/// The Kubernetes API calls the proxy makes, as metric labels.
enum KubernetesAPICall: String, Sendable {
    case tokenReview = "tokenreview"
    case subjectAccessReview = "subjectaccessreview"
}
