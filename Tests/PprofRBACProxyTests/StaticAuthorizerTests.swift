import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("StaticAuthorizer: resource rules from the config file")
struct StaticAuthorizerTests {
    static let rules = [
        // alice may get the pprof subresource of deployments in team-a (any apiGroup, any name).
        StaticAuthorizationRule(userName: "alice", verb: "get", resourceRequest: true, namespace: "team-a", resource: "deployments", subresource: "pprof"),
        // the ops group may do anything to apps/deployments named web, in any namespace.
        StaticAuthorizationRule(groups: ["ops"], resourceRequest: true, apiGroup: "apps", resource: "deployments", name: "web"),
    ]

    @Test(
        "user, group, verb, namespace, apiGroup, resource, subresource and name must all match",
        arguments: [
            ("alice", [String](), "get", ResourceAttributes(namespace: "team-a", group: "apps", resource: "deployments", subresource: "pprof", name: "x"), true),
            ("alice", [], "get", ResourceAttributes(namespace: "team-a", resource: "deployments", subresource: "pprof"), true),
            ("alice", [], "create", ResourceAttributes(namespace: "team-a", resource: "deployments", subresource: "pprof"), false),
            ("alice", [], "get", ResourceAttributes(namespace: "team-b", resource: "deployments", subresource: "pprof"), false),
            ("alice", [], "get", ResourceAttributes(namespace: "team-a", resource: "pods", subresource: "pprof"), false),
            ("alice", [], "get", ResourceAttributes(namespace: "team-a", resource: "deployments"), false),
            ("bob", [], "get", ResourceAttributes(namespace: "team-a", resource: "deployments", subresource: "pprof"), false),
            ("bob", ["ops"], "delete", ResourceAttributes(namespace: "any", group: "apps", resource: "deployments", name: "web"), true),
            ("bob", ["ops"], "get", ResourceAttributes(group: "extensions", resource: "deployments", name: "web"), false),
            ("bob", ["ops"], "get", ResourceAttributes(group: "apps", resource: "deployments", name: "db"), false),
            ("bob", ["dev"], "get", ResourceAttributes(group: "apps", resource: "deployments", name: "web"), false),
        ]
    )
    func resourceRules(user: String, groups: [String], verb: String, resource: ResourceAttributes, allowed: Bool) async throws {
        let attributes = AuthorizationAttributes(user: UserInfo(name: user, groups: groups), verb: verb, target: .resource(resource))
        #expect(try await StaticAuthorizer(rules: Self.rules).authorize(attributes) == (allowed ? .allowed(origin: DecisionOrigin(.staticRules)) : .noOpinion))
    }

    @Test("resource rules never match non-resource questions, nor path rules resource questions")
    func kindsDoNotMix() async throws {
        let pathRule = StaticAuthorizationRule(userName: "alice", path: try PathPattern("/debug/pprof/*"))
        let everything = StaticAuthorizationRule(resourceRequest: true)
        let resourceQuestion = AuthorizationAttributes(user: UserInfo(name: "alice"), verb: "get", target: .resource(ResourceAttributes(resource: "pods")))
        let pathQuestion = AuthorizationAttributes(user: UserInfo(name: "alice"), verb: "get", target: .nonResource(path: "/debug/pprof/heap"))
        #expect(try await StaticAuthorizer(rules: [pathRule]).authorize(resourceQuestion) == .noOpinion)
        #expect(try await StaticAuthorizer(rules: [everything]).authorize(pathQuestion) == .noOpinion)
        #expect(try await StaticAuthorizer(rules: [everything]).authorize(resourceQuestion) == .allowed(origin: DecisionOrigin(.staticRules)))
    }

    @Test("a config file's resource rule allows what the config file's resourceAttributes ask")
    func fromConfigFile() async throws {
        let config = try ConfigFile.parse(
            """
            authorization:
              resourceAttributes: {namespace: "{{ .Value }}", apiGroup: apps, resource: deployments, subresource: pprof}
              rewrites: {byQueryParameter: {name: namespace}}
              static:
                - {user: {name: alice}, resourceRequest: true, namespace: team-a, apiGroup: apps, resource: deployments, subresource: pprof, verb: get}
            """,
            source: "config.yaml"
        )
        let builder = AuthorizationAttributesBuilder(resourceAttributes: config.resourceAttributes, rewrites: config.rewrites)
        let authorizer = StaticAuthorizer(rules: config.staticRules)
        for (namespace, allowed) in [("team-a", true), ("team-b", false)] {
            let questions = try builder.questions(
                user: UserInfo(name: "alice"), method: .GET, path: "/debug/pprof/heap", rawQuery: "namespace=\(namespace)", headers: [:]
            )
            #expect(questions.count == 1)
            #expect(try await authorizer.authorize(questions[0]) == (allowed ? .allowed(origin: DecisionOrigin(.staticRules)) : .noOpinion))
        }
    }
}
