import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("AuthorizationAttributesBuilder: the questions kube-rbac-proxy asks for a request")
struct AuthorizationAttributesBuilderTests {
    let alice = UserInfo(name: "alice", uid: "uid-alice", groups: ["pprof-users", "system:authenticated"])

    func questions(
        _ builder: AuthorizationAttributesBuilder, method: HTTPMethod = .GET, path: String = "/debug/pprof/heap",
        query: String? = nil, headers: HTTPHeaders = [:]
    ) throws(AuthorizationAttributesError) -> [AuthorizationAttributes] {
        try builder.questions(user: alice, method: method, path: path, rawQuery: query, headers: headers)
    }

    func namespaces(_ questions: [AuthorizationAttributes]) -> [String] {
        questions.map { question in
            guard case .resource(let resource) = question.target else { return "<non-resource>" }
            return resource.namespace
        }
    }

    static let templated = try? ResourceAttributesTemplate(
        namespace: "{{ .Value }}", apiGroup: "apps", apiVersion: "v1", resource: "deployments", subresource: "pprof", name: "n-{{.Value}}"
    )

    @Test("no resourceAttributes: one non-resource question about the path, verb from the mapping")
    func nonResource() throws {
        #expect(try questions(AuthorizationAttributesBuilder(), method: .POST, path: "/debug/pprof/symbol", query: "x=1") == [
            AuthorizationAttributes(user: alice, verb: "post", target: .nonResource(path: "/debug/pprof/symbol"))
        ])
        #expect(try questions(AuthorizationAttributesBuilder(verbMapping: .kubeRBACProxy), method: .POST) == [
            AuthorizationAttributes(user: alice, verb: "create", target: .nonResource(path: "/debug/pprof/heap"))
        ])
    }

    @Test("resourceAttributes without rewrites: one resource question, no path")
    func resource() throws {
        let builder = AuthorizationAttributesBuilder(
            resourceAttributes: try ResourceAttributesTemplate(namespace: "monitoring", apiGroup: "apps", resource: "deployments")
        )
        #expect(try questions(builder, method: .HEAD, query: "namespace=ignored") == [
            AuthorizationAttributes(
                user: alice, verb: "get",
                target: .resource(ResourceAttributes(namespace: "monitoring", group: "apps", resource: "deployments"))
            )
        ])
    }

    @Test("rewrite by query parameter: one question per value, each field templated")
    func byQuery() throws {
        let builder = AuthorizationAttributesBuilder(
            resourceAttributes: Self.templated, rewrites: AttributeRewrites(queryParameter: "namespace")
        )
        let asked = try questions(builder, query: "debug=1&namespace=team-a&namespace=team%20b")
        #expect(asked == [
            AuthorizationAttributes(user: alice, verb: "get", target: .resource(ResourceAttributes(
                namespace: "team-a", group: "apps", version: "v1", resource: "deployments", subresource: "pprof", name: "n-team-a"
            ))),
            AuthorizationAttributes(user: alice, verb: "get", target: .resource(ResourceAttributes(
                namespace: "team b", group: "apps", version: "v1", resource: "deployments", subresource: "pprof", name: "n-team b"
            ))),
        ])
    }

    @Test("rewrite by header: every value of every occurrence, name matched ignoring case")
    func byHeader() throws {
        let builder = AuthorizationAttributesBuilder(resourceAttributes: Self.templated, rewrites: AttributeRewrites(httpHeader: "X-Namespace"))
        let headers = HTTPHeaders([("x-namespace", "a"), ("Other", "z"), ("X-NAMESPACE", "b, c")])
        #expect(namespaces(try questions(builder, headers: headers)) == ["a", "b, c"])
    }

    @Test("both: query values first, then header values")
    func both() throws {
        let builder = AuthorizationAttributesBuilder(
            verbMapping: .kubeRBACProxy, resourceAttributes: Self.templated,
            rewrites: AttributeRewrites(queryParameter: "ns", httpHeader: "x-ns")
        )
        let asked = try questions(builder, method: .DELETE, query: "ns=q1&ns=q2", headers: ["X-Ns": "h1"])
        #expect(namespaces(asked) == ["q1", "q2", "h1"])
        #expect(asked.allSatisfy { $0.verb == "delete" && $0.user == alice })
    }

    @Test("rewrites that find no value refuse the request", arguments: [
        (String?.none, HTTPHeaders()), ("other=1", HTTPHeaders([("x-other", "1")])), ("ns;x=1", HTTPHeaders()),
    ])
    func noValue(query: String?, headers: HTTPHeaders) {
        let builder = AuthorizationAttributesBuilder(
            resourceAttributes: Self.templated, rewrites: AttributeRewrites(queryParameter: "ns", httpHeader: "x-ns")
        )
        #expect(throws: AuthorizationAttributesError.noRewriteValue) { try questions(builder, query: query, headers: headers) }
    }

    @Test("more values than the limit refuse the request rather than flood the API")
    func tooManyValues() throws {
        let builder = AuthorizationAttributesBuilder(resourceAttributes: Self.templated, rewrites: AttributeRewrites(queryParameter: "ns"))
        let limit = AuthorizationAttributesBuilder.maximumRewriteValues
        let atLimit = (1...limit).map { "ns=\($0)" }.joined(separator: "&")
        #expect(try questions(builder, query: atLimit).count == limit)
        #expect(throws: AuthorizationAttributesError.tooManyRewriteValues(count: limit + 1, limit: limit)) {
            try questions(builder, query: atLimit + "&ns=x")
        }
    }
}
