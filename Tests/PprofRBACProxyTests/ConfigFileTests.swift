import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("ConfigFile: kube-rbac-proxy's authorization config")
struct ConfigFileTests {
    func refusal(_ yaml: String) -> String? {
        do {
            _ = try ConfigFile.parse(yaml, source: "config.yaml")
            return nil
        } catch {
            return error.description
        }
    }

    @Test("static rules with user, groups, verb, path globs and resource fields")
    func staticRules() throws {
        let config = try ConfigFile.parse(
            """
            authorization:
              static:
                - user:
                    name: alice
                    groups: ["pprof-users"]
                  verb: get
                  path: /debug/pprof/*
                  resourceRequest: false
                - user:
                    name: system:serviceaccount:default:default
                  resourceRequest: true
                  resource: namespaces
                  subresource: metrics
                  namespace: default
                  apiGroup: apps
                  name: web
                  verb: get
            """,
            source: "config.yaml"
        )
        #expect(config.staticRules == [
            StaticAuthorizationRule(userName: "alice", groups: ["pprof-users"], verb: "get", path: try PathPattern("/debug/pprof/*")),
            StaticAuthorizationRule(
                userName: "system:serviceaccount:default:default", verb: "get", resourceRequest: true,
                namespace: "default", apiGroup: "apps", resource: "namespaces", subresource: "metrics", name: "web"
            ),
        ])
        #expect(config.resourceAttributes == nil && config.rewrites == nil)
    }

    @Test("a file without authorization, empty, or all null, is valid and configures nothing", arguments: [
        "", "# only a comment\n", "{}\n", "authorization: {}\n", "authorization:\n", "authorization:\n  static:\n  resourceAttributes: ~\n",
    ])
    func empty(yaml: String) throws {
        let config = try ConfigFile.parse(yaml, source: "c")
        #expect(config.staticRules.isEmpty && config.resourceAttributes == nil && config.rewrites == nil)
    }

    @Test("resourceAttributes: apiGroup and apiVersion become group and version")
    func resourceAttributes() throws {
        let config = try ConfigFile.parse(
            """
            authorization:
              resourceAttributes:
                namespace: monitoring
                apiGroup: apps
                apiVersion: v1
                resource: deployments
                subresource: pprof
                name: controller
            """,
            source: "config.yaml"
        )
        #expect(config.resourceAttributes?.rendered(value: "unused") == ResourceAttributes(
            namespace: "monitoring", group: "apps", version: "v1", resource: "deployments", subresource: "pprof", name: "controller"
        ))
        #expect(config.rewrites == nil)
    }

    @Test("rewrites by query parameter, by header, or both; {{ .Value }} with any spacing")
    func rewrites() throws {
        let config = try ConfigFile.parse(
            """
            authorization:
              rewrites:
                byQueryParameter:
                  name: namespace
                byHttpHeader:
                  name: X-Namespace
              resourceAttributes:
                resource: pods
                subresource: "{{.Value}}-pprof"
                namespace: "{{ .Value }}"
                name: "a-{{  .Value\t}}-{{ .Value }}"
            """,
            source: "config.yaml"
        )
        #expect(config.rewrites == AttributeRewrites(queryParameter: "namespace", httpHeader: "X-Namespace"))
        #expect(config.resourceAttributes?.rendered(value: "team") == ResourceAttributes(
            namespace: "team", resource: "pods", subresource: "team-pprof", name: "a-team-team"
        ))
        let queryOnly = try ConfigFile.parse(
            "authorization:\n  rewrites:\n    byQueryParameter: {name: ns}\n  resourceAttributes: {namespace: '{{ .Value }}'}\n",
            source: "c"
        )
        #expect(queryOnly.rewrites == AttributeRewrites(queryParameter: "ns"))
        let headerOnly = try ConfigFile.parse(
            "authorization:\n  rewrites:\n    byHttpHeader: {name: x-ns}\n  resourceAttributes: {namespace: '{{ .Value }}'}\n",
            source: "c"
        )
        #expect(headerOnly.rewrites == AttributeRewrites(httpHeader: "x-ns"))
    }

    @Test("keys match as Go's JSON decoding matches them: exactly, else ignoring case")
    func caseInsensitiveKeys() throws {
        let config = try ConfigFile.parse(
            "Authorization:\n  Static:\n    - User: {Name: alice}\n      Path: /debug/pprof\n      VERB: get\n",
            source: "c"
        )
        #expect(config.staticRules == [StaticAuthorizationRule(userName: "alice", verb: "get", path: try PathPattern("/debug/pprof"))])
    }

    @Test("unknown keys are refused with the key and its line", arguments: [
        ("authorisation:\n  static: []\n", "line 1: the document: unknown key \"authorisation\""),
        ("authorization:\n  static: []\n  resourceAtributes: {}\n", "line 3: authorization: unknown key \"resourceAtributes\""),
        ("authorization:\n  resourceAttributes:\n    namespace: a\n    group: apps\n", "line 4: authorization.resourceAttributes: unknown key \"group\""),
        ("authorization:\n  static:\n    - path: /x\n      users: {name: a}\n", "line 4: authorization.static[0]: unknown key \"users\""),
        ("authorization:\n  static:\n    - path: /x\n      user: {name: a, group: [b]}\n", "line 4: authorization.static[0].user: unknown key \"group\""),
        (
            "authorization:\n  resourceAttributes: {}\n  rewrites:\n    byQueryParameter: {name: a, value: b}\n",
            "line 4: authorization.rewrites.byQueryParameter: unknown key \"value\""
        ),
        ("authorization:\n  rewrites:\n    byHeader: {name: a}\n", "line 3: authorization.rewrites: unknown key \"byHeader\""),
    ])
    func unknownKeys(yaml: String, expected: String) {
        let message = refusal(yaml)
        #expect(message?.contains("config.yaml") == true)
        #expect(message?.contains(expected) == true, "\(String(describing: message))")
    }

    @Test("wrong types are refused with the field and its line", arguments: [
        ("authorization:\n  static: {}\n", "line 2: authorization.static: expected a list, found a mapping"),
        ("authorization: [1]\n", "line 1: authorization: expected a mapping, found a list"),
        ("- a\n", "the document: expected a mapping"),
        ("authorization:\n  static:\n    - path: 1\n", "line 3: authorization.static[0].path: expected a string, found the number 1"),
        ("authorization:\n  static:\n    - path: /x\n      resourceRequest: \"false\"\n", "line 4: authorization.static[0].resourceRequest: expected true or false"),
        ("authorization:\n  static:\n    - path: /x\n      user: {groups: a}\n", "authorization.static[0].user.groups: expected a list"),
        ("authorization:\n  static:\n    - path: /x\n      user: {groups: [true]}\n", "authorization.static[0].user.groups[0]: expected a string, found the boolean true"),
        ("authorization:\n  static:\n    - null\n", "line 3: authorization.static[0]: expected a rule"),
        ("authorization:\n  resourceAttributes:\n    namespace: [a]\n", "line 3: authorization.resourceAttributes.namespace: expected a string"),
        ("authorization:\n  resourceAttributes: pods\n", "authorization.resourceAttributes: expected a mapping, found the string \"pods\""),
        ("authorization: [\n", "not valid YAML"),
        ("authorization:\n  static: []\n  static: []\n", "not valid YAML"),
    ])
    func wrongTypes(yaml: String, expected: String) {
        let message = refusal(yaml)
        #expect(message?.contains(expected) == true, "\(String(describing: message))")
    }

    @Test("rule and rewrite validation", arguments: [
        ("authorization:\n  static:\n    - user: {name: a}\n      resourceRequest: true\n      path: /x\n", "line 3: authorization.static[0]: a resourceRequest rule cannot have a path"),
        ("authorization:\n  static:\n    - user: {name: a}\n      verb: get\n", "authorization.static[0]: a non-resource rule needs a path"),
        ("authorization:\n  static:\n    - path: \"/debug/pprof/[\"\n", "line 3: authorization.static[0].path: invalid path pattern"),
        ("authorization:\n  resourceAttributes: {namespace: \"{{ .Values }}\"}\n  rewrites: {byQueryParameter: {name: ns}}\n", "authorization.resourceAttributes.namespace: \"{{ .Values }}\" is not supported"),
        ("authorization:\n  resourceAttributes: {name: \"{{- .Value }}\"}\n  rewrites: {byQueryParameter: {name: ns}}\n", "authorization.resourceAttributes.name: "),
        ("authorization:\n  resourceAttributes: {name: \"{{ .Value \"}\n  rewrites: {byQueryParameter: {name: ns}}\n", "authorization.resourceAttributes.name: "),
        ("authorization:\n  resourceAttributes: {namespace: \"{{ .Value }}\"}\n", "line 2: authorization.resourceAttributes: {{ .Value }} needs authorization.rewrites"),
        ("authorization:\n  rewrites: {byQueryParameter: {name: ns}}\n", "line 2: authorization.rewrites: rewrites only apply to authorization.resourceAttributes"),
        ("authorization:\n  resourceAttributes: {}\n  rewrites: {byQueryParameter: {name: \"\"}}\n", "authorization.rewrites: names neither byQueryParameter.name nor byHttpHeader.name"),
        ("authorization:\n  resourceAttributes: {}\n  rewrites: {byHttpHeader: {name: \"bad header\"}}\n", "authorization.rewrites.byHttpHeader.name: \"bad header\" is not a valid header name"),
    ])
    func validation(yaml: String, expected: String) {
        let message = refusal(yaml)
        #expect(message?.hasPrefix("invalid config file config.yaml: ") == true)
        #expect(message?.contains(expected) == true, "\(String(describing: message))")
    }

    @Test("a missing file names the flag and the path")
    func missingFile() {
        #expect(throws: ConfigurationError.self) { try ConfigFile.load(path: "/nonexistent/config.yaml") }
    }
}
