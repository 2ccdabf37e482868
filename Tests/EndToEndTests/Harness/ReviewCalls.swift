/// How many reviews the fake API server has received (`/control/calls`).
struct ReviewCalls: Decodable, Equatable, Sendable, CustomStringConvertible {
    let tokenReviews: Int
    let subjectAccessReviews: Int

    init(tokenReviews: Int, subjectAccessReviews: Int) {
        self.tokenReviews = tokenReviews
        self.subjectAccessReviews = subjectAccessReviews
    }

    static let none = ReviewCalls(tokenReviews: 0, subjectAccessReviews: 0)

    private enum CodingKeys: String, CodingKey {
        case tokenReviews = "tokenreviews"
        case subjectAccessReviews = "subjectaccessreviews"
    }

    var description: String { "\(tokenReviews) TokenReview(s), \(subjectAccessReviews) SubjectAccessReview(s)" }
}
