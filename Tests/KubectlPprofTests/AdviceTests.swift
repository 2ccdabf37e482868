import Foundation
import NIOHTTP1
import Testing

@testable import KubectlPprof

/// What a person is told when the proxy says no.
@Suite("RefusalAdvice")
struct AdviceTests {
    private func answer(_ status: Int, _ text: String, headers: [(String, String)] = []) -> ProfileFetcher.Answer {
        ProfileFetcher.Answer(status: status, headers: HTTPHeaders(headers), bytes: text.utf8.count, text: text)
    }

    @Test("the printed ClusterRole is deploy/'s pprof-reader")
    func readerRole() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/base/pprof-reader-role.yaml")
        let manifest = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        #expect(manifest == RefusalAdvice.readerRole)
    }

    @Test("403 for a user and a ServiceAccount: the permission, the role, a binding line")
    func forbidden() {
        let user = RefusalAdvice.failure(
            for: answer(403, "Forbidden (user=alice@example.com, verb=get, path=/debug/pprof/profile)\n"),
            identity: CallerIdentity(kubeconfigUser: "alice"), from: "pod/p", namespace: "ns")
        #expect(user.lines.contains("Missing: get on the non-resource URL /debug/pprof/profile for alice@example.com."))
        #expect(user.lines.last == "  kubectl create clusterrolebinding pprof-reader-alice-example.com --clusterrole=pprof-reader --user=alice@example.com")
        let account = RefusalAdvice.forbidden("Forbidden (user=system:serviceaccount:a:b, verb=get, path=/debug/pprof/heap)", namespace: "ns")
        #expect(account.last?.hasSuffix("--serviceaccount=a:b") == true)
        let resource = RefusalAdvice.forbidden(
            "Forbidden (user=bob, verb=get, resource=pods, subresource=pprof)", namespace: "team")
        #expect(resource.contains("  kubectl -n team create role pprof-reader --verb=get --resource=pods/pprof"))
        #expect(resource.contains("  kubectl -n team create rolebinding pprof-reader-bob --role=pprof-reader --user=bob"))
    }

    @Test("401: what was sent and the token's claims, never the token")
    func unauthorized() throws {
        func base64URL(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
        }
        let token = base64URL(#"{"alg":"RS256"}"#) + "." + base64URL(#"{"sub":"system:serviceaccount:a:b","aud":["api"],"exp":1000}"#) + ".sig"
        let identity = CallerIdentity(bearerToken: token, tokenSource: .execPlugin(user: "me", command: "helper"), kubeconfigUser: "me")
        let failure = RefusalAdvice.failure(for: answer(401, "Unauthorized\n"), identity: identity, from: "pod/p", namespace: "ns")
        let text = failure.lines.joined(separator: "\n")
        #expect(text.contains("Sent: a bearer token from helper, the exec plugin of kubeconfig user \"me\"."))
        #expect(text.contains("a JWT for system:serviceaccount:a:b, audiences api, expired 1970-01-01T00:16:40Z"))
        #expect(text.contains("It has expired"))
        #expect(!text.contains(token) && !text.contains(".sig"))
        let nobody = RefusalAdvice.unauthorized(CallerIdentity(kubeconfigUser: "empty")).joined()
        #expect(nobody.contains("no credentials") && nobody.contains("--token-from-serviceaccount"))
    }

    @Test("429 says when to retry and --wait; other statuses name the likely cause")
    func others() {
        let busy = RefusalAdvice.failure(
            for: answer(429, "Too Many Requests: the capture queue is full (--capture-queue-size=8); retry in 5s\n", headers: [("Retry-After", "5")]),
            identity: CallerIdentity(kubeconfigUser: "u"), from: "pod/p", namespace: "ns")
        #expect(busy.lines.first == "error: the proxy at pod/p is busy (429: Too Many Requests: the capture queue is full (--capture-queue-size=8); retry in 5s)")
        #expect(busy.lines.last?.contains("Retry in 5 s, or run again with --wait") == true)
        for status in [404, 502, 503] {
            let failure = RefusalAdvice.failure(for: answer(status, "x"), identity: CallerIdentity(kubeconfigUser: "u"), from: "p", namespace: "ns")
            #expect(failure.lines.count == 2, "\(status): \(failure.lines)")
        }
    }
}
