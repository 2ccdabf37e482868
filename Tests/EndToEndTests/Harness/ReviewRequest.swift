/// A TokenReview or SubjectAccessReview body as the proxy sent it to the fake API server.
struct ReviewRequest: Decodable, Sendable {
    /// The fields of both review kinds' `spec` that the tests check.
    struct Spec: Decodable, Sendable {
        let token: String?
        let audiences: [String]?
        let user: String?
        let groups: [String]?
        let nonResourceAttributes: NonResourceAttributes?
    }

    /// A SubjectAccessReview's request path and verb.
    struct NonResourceAttributes: Decodable, Sendable, Equatable {
        let path: String
        let verb: String
    }

    let kind: String?
    let spec: Spec

    var isTokenReview: Bool { kind == "TokenReview" }
    var isSubjectAccessReview: Bool { kind == "SubjectAccessReview" }
}
