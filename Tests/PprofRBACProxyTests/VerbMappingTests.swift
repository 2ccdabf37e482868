import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("VerbMapping: HTTP methods to authorization verbs")
struct VerbMappingTests {
    @Test("both modes, for non-resource and resource questions", arguments: [
        // method, apiserver non-resource, apiserver resource, kube-rbac-proxy (both kinds)
        (HTTPMethod.GET, "get", "get", "get"),
        (.HEAD, "head", "get", "*"),
        (.POST, "post", "create", "create"),
        (.PUT, "put", "update", "update"),
        (.PATCH, "patch", "patch", "patch"),
        (.DELETE, "delete", "delete", "delete"),
        (.OPTIONS, "options", "options", "*"),
        (.RAW(value: "PROPFIND"), "propfind", "propfind", "*"),
    ])
    func verbs(method: HTTPMethod, apiserverNonResource: String, apiserverResource: String, kubeRBACProxy: String) {
        #expect(VerbMapping.apiserver.verb(for: method) == apiserverNonResource)
        #expect(VerbMapping.apiserver.resourceVerb(for: method) == apiserverResource)
        #expect(VerbMapping.kubeRBACProxy.verb(for: method) == kubeRBACProxy)
        #expect(VerbMapping.kubeRBACProxy.resourceVerb(for: method) == kubeRBACProxy)
    }
}
