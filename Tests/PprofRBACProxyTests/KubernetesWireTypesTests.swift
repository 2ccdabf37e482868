import Foundation
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("Kubernetes wire types against captured API server exchanges")
struct KubernetesWireTypesTests {
    @Test func fixturesArePresent() {
        #expect(
            APIServerFixture.allNames.count >= 17,
            "expected the captured exchanges in \(APIServerFixture.directory.path)"
        )
    }

    @Test("Every captured response decodes", arguments: APIServerFixture.allNames)
    func everyResponseDecodes(name: String) throws {
        let fixture = try APIServerFixture.named(name)
        let body = Data(fixture.responseBody)
        if fixture.responseStatus == 201 {
            if fixture.requestPath == TokenReview.path {
                let review = try JSONDecoder().decode(TokenReview.self, from: body)
                #expect(review.kind == TokenReview.kind)
                #expect(review.apiVersion == TokenReview.apiVersion)
                #expect(review.status != nil)
            } else {
                #expect(fixture.requestPath == SubjectAccessReview.path)
                let review = try JSONDecoder().decode(SubjectAccessReview.self, from: body)
                #expect(review.kind == SubjectAccessReview.kind)
                #expect(review.apiVersion == SubjectAccessReview.apiVersion)
                #expect(review.status != nil)
            }
        } else {
            let status = try JSONDecoder().decode(KubernetesStatus.self, from: body)
            #expect(status.kind == "Status")
            #expect(status.status == "Failure")
            #expect(status.code == fixture.responseStatus)
            #expect(status.message?.isEmpty == false)
        }
    }

    // MARK: - TokenReview answers

    @Test func validUserToken() throws {
        let status = try tokenReviewStatus("tokenreview-user-valid")
        #expect(status.authenticated == true)
        #expect(status.user?.username == "alice")
        #expect(status.user?.uid == "uid-alice")
        #expect(status.user?.groups == ["pprof-users", "system:authenticated"])
        #expect(status.audiences == ["https://kubernetes.default.svc.cluster.local"])
        #expect(status.error == nil)
    }

    @Test func validServiceAccountToken() throws {
        let status = try tokenReviewStatus("tokenreview-serviceaccount-valid")
        #expect(status.authenticated == true)
        #expect(status.user?.username == "system:serviceaccount:default:no-delegator")
        #expect(status.user?.uid == "a3ba8018-917f-4542-b607-0d36ff42a14d")
        #expect(
            status.user?.groups == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]
        )
    }

    @Test func audienceMatch() throws {
        let status = try tokenReviewStatus("tokenreview-audience-match")
        #expect(status.authenticated == true)
        #expect(status.user?.username == "system:serviceaccount:default:pprof-proxy")
        #expect(status.audiences == ["pprof-rbac-proxy"])
    }

    @Test func invalidTokenHasNoAuthenticatedField() throws {
        let status = try tokenReviewStatus("tokenreview-invalid-token")
        #expect(status.authenticated == nil)
        #expect(status.user == KubernetesUserInfo())
        #expect(status.error == "invalid bearer token")
    }

    @Test func audienceMismatchHasNoAuthenticatedField() throws {
        let status = try tokenReviewStatus("tokenreview-audience-mismatch")
        #expect(status.authenticated == nil)
        #expect(status.audiences == nil)
        #expect(status.error?.contains("is invalid for the target audiences [\"pprof-rbac-proxy\"]") == true)
    }

    // MARK: - SubjectAccessReview answers

    @Test func nonResourceAllowed() throws {
        let status = try subjectAccessReviewStatus("sar-nonresource-allowed")
        #expect(status.allowed)
        #expect(status.denied == nil)
        #expect(
            status.reason
                == "RBAC: allowed by ClusterRoleBinding \"pprof-reader-alice\" of ClusterRole \"pprof-reader\" to User \"alice\""
        )
    }

    @Test func nonResourceIndexAllowed() throws {
        let status = try subjectAccessReviewStatus("sar-nonresource-index-allowed")
        #expect(status.allowed)
    }

    @Test("A denial may carry neither reason nor denied", arguments: [
        "sar-nonresource-denied", "sar-nonresource-verb-denied", "sar-resource-denied",
    ])
    func deniedWithoutReason(name: String) throws {
        let status = try subjectAccessReviewStatus(name)
        #expect(!status.allowed)
        #expect(status.denied == nil)
        #expect(status.reason == nil)
    }

    @Test func resourceAllowedWithoutReason() throws {
        let status = try subjectAccessReviewStatus("sar-resource-allowed-admin")
        #expect(status.allowed)
        #expect(status.reason == nil)
    }

    // MARK: - Status answers

    @Test("Failures are Status objects", arguments: [
        ("tokenreview-caller-bad-token", 401, "Unauthorized", "Unauthorized"),
        ("tokenreview-caller-forbidden", 403, "Forbidden", "cannot create resource \"tokenreviews\""),
        ("tokenreview-caller-unauthenticated", 403, "Forbidden", "User \"system:anonymous\" cannot create"),
        ("sar-caller-forbidden", 403, "Forbidden", "cannot create resource \"subjectaccessreviews\""),
        ("sar-invalid-spec", 422, "Invalid", "exactly one of nonResourceAttributes or resourceAttributes"),
        ("tokenreview-malformed-body", 400, "BadRequest", "json parse error"),
    ])
    func failureStatus(name: String, code: Int, reason: String, messageFragment: String) throws {
        let fixture = try APIServerFixture.named(name)
        #expect(fixture.responseStatus == code)
        let status = try JSONDecoder().decode(KubernetesStatus.self, from: Data(fixture.responseBody))
        #expect(status.code == code)
        #expect(status.reason == reason)
        #expect(status.message?.contains(messageFragment) == true)
    }

    @Test func malformedRequestIsKeptAsText() throws {
        let fixture = try APIServerFixture.named("tokenreview-malformed-body")
        guard case .text(let text) = fixture.requestBody else {
            Issue.record("the malformed request body should be raw text")
            return
        }
        #expect(text.hasPrefix("{\"apiVersion\":\"authentication.k8s.io/v1\""))
        #expect(throws: (any Error).self) { try JSONValue(jsonBytes: Array(text.utf8)) }
    }

    // MARK: - Requests as client-go sends them

    @Test func tokenReviewRequestMatchesCapture() throws {
        let fixture = try APIServerFixture.named("tokenreview-user-valid")
        let review = TokenReview(spec: TokenReviewSpec(token: "alice-ca1a8797a6642156924db5306eb46ab1", audiences: []))
        #expect(try encodedJSON(review) == fixture.requestJSON())
    }

    @Test func tokenReviewWithAudiencesMatchesCapture() throws {
        let fixture = try APIServerFixture.named("tokenreview-audience-match")
        let token = try #require(fixture.requestJSON()["spec"]?["token"]?.stringValue)
        let review = TokenReview(spec: TokenReviewSpec(token: token, audiences: ["pprof-rbac-proxy"]))
        #expect(try encodedJSON(review) == fixture.requestJSON())
    }

    @Test("SubjectAccessReview requests match the captures", arguments: [
        (
            "sar-nonresource-allowed",
            AuthorizationAttributes(
                user: UserInfo(name: "alice", uid: "uid-alice", groups: ["pprof-users", "system:authenticated"]),
                verb: "get", target: .nonResource(path: "/debug/pprof/profile")
            )
        ),
        (
            "sar-nonresource-denied",
            AuthorizationAttributes(
                user: UserInfo(name: "bob", groups: ["others", "system:authenticated"]),
                verb: "get", target: .nonResource(path: "/debug/pprof/profile")
            )
        ),
        (
            "sar-resource-allowed-admin",
            AuthorizationAttributes(
                user: UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"]),
                verb: "get",
                target: .resource(
                    ResourceAttributes(
                        namespace: "default", group: "", version: "v1",
                        resource: "pods", subresource: "proxy", name: "controller-0"
                    )
                )
            )
        ),
    ])
    func subjectAccessReviewRequestMatchesCapture(name: String, attributes: AuthorizationAttributes) throws {
        let fixture = try APIServerFixture.named(name)
        let review = SubjectAccessReview(spec: SubjectAccessReviewSpec(attributes))
        #expect(try encodedJSON(review) == fixture.requestJSON())
    }

    // MARK: - Helpers

    private func tokenReviewStatus(_ name: String) throws -> TokenReviewStatus {
        let fixture = try APIServerFixture.named(name)
        #expect(fixture.responseStatus == 201)
        let review = try JSONDecoder().decode(TokenReview.self, from: Data(fixture.responseBody))
        return try #require(review.status)
    }

    private func subjectAccessReviewStatus(_ name: String) throws -> SubjectAccessReviewStatus {
        let fixture = try APIServerFixture.named(name)
        #expect(fixture.responseStatus == 201)
        let review = try JSONDecoder().decode(SubjectAccessReview.self, from: Data(fixture.responseBody))
        return try #require(review.status)
    }

    private func encodedJSON(_ value: some Encodable) throws -> JSONValue {
        try JSONValue(jsonBytes: JSONEncoder().encode(value))
    }
}
