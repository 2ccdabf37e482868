import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PprofRBACProxy

/// The Kubernetes API calls of `kubectl pprof`, as the caller: pod and Deployment lookups, the
/// Services in front of a pod, and TokenRequest. Errors say what was asked and what the API said.
package final class ClusterClient: Sendable {
    private let client: KubernetesAPIClient

    package init(connection: KubernetesConnection) throws(PluginFailure) {
        do {
            client = try KubernetesAPIClient(
                connection: connection, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                logger: Logger(label: "kubectl-pprof", factory: { _ in SwiftLogNoOpLogHandler() }), userAgent: "kubectl-pprof")
        } catch {
            throw .kubeconfig("\(error)")
        }
    }

    package func shutdown() async {
        try? await client.shutdown()
    }

    package func pod(_ name: String, namespace: String) async throws(PluginFailure) -> Pod {
        try await get("/api/v1/namespaces/\(namespace)/pods/\(name)", what: "pod \(name) in namespace \(namespace)")
    }

    package func pods(selector: String, namespace: String) async throws(PluginFailure) -> [Pod] {
        let query = Self.queryValue(selector)
        let list: PodList = try await get(
            "/api/v1/namespaces/\(namespace)/pods?labelSelector=\(query)", what: "pods with -l \(selector) in namespace \(namespace)")
        return list.items
    }

    package func deployment(_ name: String, namespace: String) async throws(PluginFailure) -> Deployment {
        try await get("/apis/apps/v1/namespaces/\(namespace)/deployments/\(name)", what: "deployment \(name) in namespace \(namespace)")
    }

    /// The namespace's Services; nil when the caller may not list them (the name then falls back).
    package func services(namespace: String) async -> [Service]? {
        let list: ServiceList? = try? await get("/api/v1/namespaces/\(namespace)/services", what: "services")
        return list?.items
    }

    /// A token of `account` from TokenRequest, good for `seconds`, for `audiences` (none: the API server's).
    package func token(
        for account: ServiceAccountReference, audiences: [String], seconds: Int
    ) async throws(PluginFailure) -> String {
        struct TokenRequest: Codable {
            struct Spec: Codable {
                var audiences: [String]
                var expirationSeconds: Int
            }
            struct Status: Codable {
                var token: String
            }
            var apiVersion = "authentication.k8s.io/v1"
            var kind = "TokenRequest"
            var spec: Spec?
            var status: Status?
        }
        let request = TokenRequest(spec: .init(audiences: audiences, expirationSeconds: seconds))
        let body = (try? JSONEncoder().encode(request)) ?? Data()
        let what = "a token of ServiceAccount \(account) (TokenRequest)"
        let answer = try await call(
            .POST, "/api/v1/namespaces/\(account.namespace)/serviceaccounts/\(account.name)/token", json: body, what: what)
        guard let token = answer.flatMap({ try? JSONDecoder().decode(TokenRequest.self, from: $0) })?.status?.token else {
            throw .kubernetesAPI("cannot get \(what): the answer has no token")
        }
        return token
    }

    private func get<Object: Decodable>(_ path: String, what: String) async throws(PluginFailure) -> Object {
        let body = try await call(.GET, path, json: nil, what: what)
        guard let body, let object = try? JSONDecoder().decode(Object.self, from: body) else {
            throw .kubernetesAPI("cannot get \(what): the answer is not what the API sends")
        }
        return object
    }

    /// The body of a 200 or 201; any other answer is an error naming `what` and what the API said.
    private func call(_ method: HTTPMethod, _ path: String, json: Data?, what: String) async throws(PluginFailure) -> Data? {
        let answer: KubernetesAPIClient.CallAnswer
        do {
            answer = try await client.call(method, path, json: json)
        } catch {
            throw .kubernetesAPI("cannot get \(what): \(error)")
        }
        switch answer.statusCode {
        case 200, 201:
            return answer.body.map { Data($0.readableBytesView) }
        case 401:
            throw .kubernetesAPI("cannot get \(what): the API server does not accept your kubeconfig's credentials (401: \(answer.message))")
        case 403:
            throw .kubernetesAPI("cannot get \(what): \(answer.message)")
        case 404:
            throw .kubernetesAPI("\(what) not found")
        default:
            throw .kubernetesAPI("cannot get \(what): the API server answered \(answer.statusCode): \(answer.message)")
        }
    }

    /// `text` percent-encoded for a query value.
    private static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
