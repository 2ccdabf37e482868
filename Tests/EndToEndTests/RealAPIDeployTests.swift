import Foundation
import Testing
import Yams

/// deploy/ applied to a real kube-apiserver, and the proxy run on this machine with the identity
/// the manifests give it: what the API server, not our fake of it, makes of the objects and the RBAC.
@Suite("Real API server: deploy/ applied", RealAPIServer.tier, .serialized, .timeLimit(.minutes(10)))
struct RealAPIDeployTests {
    /// The CustomResourceDefinitions the overlays need, reduced to what `kubectl apply` validates:
    /// cert-manager's Issuer and Certificate and the Prometheus Operator's ServiceMonitor, with any content.
    static let customResources = [
        ("Issuer", "issuers", "cert-manager.io"), ("Certificate", "certificates", "cert-manager.io"),
        ("ServiceMonitor", "servicemonitors", "monitoring.coreos.com"),
    ].map { kind, plural, group in
        """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: \(plural).\(group)
        spec:
          group: \(group)
          names: {kind: \(kind), listKind: \(kind)List, plural: \(plural), singular: \(kind.lowercased())}
          scope: Namespaced
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """
    }.joined(separator: "\n---\n")

    /// Applies what every overlay needs besides itself: the reduced CRDs and the scrapers' namespaces.
    static func prepare(_ api: RealAPIServer) async throws {
        try await api.apply(customResources)
        try await api.kubectl([
            "wait", "--for=condition=Established", "crd/issuers.cert-manager.io", "crd/certificates.cert-manager.io",
            "crd/servicemonitors.monitoring.coreos.com", "--timeout=60s",
        ])
        for namespace in ["parca", "alloy", "monitoring"] {
            try await api.apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)\n")
        }
    }

    @Test("every overlay applies, and each namespaced object is where the manifests say, none in the caller's namespace", arguments: DeploymentManifestTests.folders)
    func applied(folder: String) async throws {
        let api = try await RealAPIServer.shared()
        try await Self.prepare(api)
        let path = PackagePaths.root.appendingPathComponent("deploy/\(folder)").path
        try await api.apply(kustomization: path)
        let render = try await RenderedManifests.render(folder)
        try await Self.expectApplied(render, in: api)
    }

    @Test("every component together applies, and each namespaced object is where the manifests say")
    func allComponentsApplied() async throws {
        let api = try await RealAPIServer.shared()
        try await Self.prepare(api)
        try await using(try TestWorkspace()) { workspace in
            let folder = try DeploymentManifestTests.allComponents(in: workspace)
            try await api.apply(kustomization: folder)
            try await Self.expectApplied(try await RenderedManifests.render(folder), in: api)
        }
    }

    @Test("as the ServiceAccount the manifests create, the proxy may review: a reader bound through pprof-reader 200, an unbound ServiceAccount 403, no token 401")
    func identity() async throws {
        let api = try await RealAPIServer.shared()
        try await Self.prepare(api)
        try await api.apply(kustomization: PackagePaths.root.appendingPathComponent("deploy/base").path)
        try await Self.expectServing(as: "example-system", render: try await RenderedManifests.render("base"), api: api)
    }

    @Test("moved to team-a the way docs/deployment.md says: applied, every object in team-a, and the proxy there may review; example-system's keeps working")
    func anotherNamespace() async throws {
        let api = try await RealAPIServer.shared()
        try await Self.prepare(api)
        try await using(try TestWorkspace()) { workspace in
            let mine = try DeploymentManifestTests.documentedKustomization(in: workspace)
            try await api.apply(kustomization: PackagePaths.root.appendingPathComponent("deploy/base").path)
            try await api.apply(kustomization: mine)
            let render = try await RenderedManifests.render(mine)
            try await Self.expectApplied(render, in: api)
            try await Self.expectServing(as: "team-a", render: render, api: api)
            try await Self.expectServing(as: "example-system", render: try await RenderedManifests.render("base"), api: api)
        }
    }

    @Test("prometheus overlay: the Prometheus ServiceAccount it binds scrapes the proxy's /metrics on the listener the Service exposes, another ServiceAccount 403")
    func metricsScrape() async throws {
        let api = try await RealAPIServer.shared()
        try await Self.prepare(api)
        try await api.apply(kustomization: PackagePaths.root.appendingPathComponent("deploy/overlays/prometheus").path)
        try await api.createServiceAccounts(["prometheus-k8s", "not-prometheus"], in: "monitoring")
        let prometheus = try await api.token(serviceAccount: "prometheus-k8s", namespace: "monitoring")
        let other = try await api.token(serviceAccount: "not-prometheus", namespace: "monitoring")
        let render = try await RenderedManifests.render("overlays/prometheus")
        try await RealAPIProxy.run(
            api: api, serviceAccount: "controller-manager", namespace: "example-system",
            arguments: { upstream, workspace in
                let authority = try await TestCertificateAuthority.create(in: workspace, name: "ca")
                let serving = try await authority.issueServingCertificate(file: "tls", service: "controller-manager-pprof", namespace: "example-system")
                return try render.proxyArguments(LocalSidecar(
                    upstream: upstream.upstreamURL, certificate: serving.certificate, privateKey: serving.privateKey,
                    endpointsPort: try FreePort.find()))
            },
            secrets: [prometheus, other]
        ) { proxy in
            let marker = "metrics listener serving /metrics on 127.0.0.1:"
            let line = try await proxy.proxy.process.waitForLine(containing: marker, in: .stderr, timeout: .seconds(10))
            let port = try #require(line.range(of: marker).flatMap { Int(line[$0.upperBound...].prefix(while: \.isNumber)) })
            func scrape(_ token: String) async throws -> CurlResponse {
                try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(port)/metrics", bearerToken: token))
            }
            let scraped = try await scrape(prometheus)
            #expect(scraped.status == 200, "\(scraped.summary)")
            #expect(scraped.bodyText.contains("# TYPE pprof_rbac_proxy_"), "Prometheus text")
            let refused = try await scrape(other)
            #expect(refused.status == 403, "\(refused.summary)")
        }
    }

    /// Every object of `render` exists where it says, and none of the namespaced ones landed in
    /// `default`, the admin's current namespace.
    static func expectApplied(_ render: RenderedManifests, in api: RealAPIServer, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for object in render.objects {
            let kind = try #require(object["kind"]?.string)
            let name = try #require(object["metadata"]?["name"]?.string)
            var arguments = ["get", "\(kind).\(Self.group(of: object))", name, "-o", "name"]
            if let namespace = object["metadata"]?["namespace"]?.string {
                arguments += ["-n", namespace]
            }
            _ = try await api.kubectl(arguments)
        }
        let strays = try await api.kubectl([
            "get", "serviceaccounts,services,deployments,configmaps,roles,rolebindings,issuers,certificates",
            "-n", "default", "-o", "name",
        ])
        let ours = render.objects.compactMap { $0["metadata"]?["name"]?.string }
        let landed = strays.split(separator: "\n").filter { line in ours.contains { line.hasSuffix("/\($0)") } }
        #expect(landed.isEmpty, "in the caller's namespace instead of their own: \(landed)", sourceLocation: sourceLocation)
    }

    /// The API group of `object`'s apiVersion, for `kubectl get KIND.GROUP` ("" for the core group).
    static func group(of object: Node) -> String {
        let apiVersion = object["apiVersion"]?.string ?? "v1"
        return apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
    }

    /// Runs the proxy with the rendered sidecar flags and the token of `namespace`'s
    /// controller-manager ServiceAccount, and checks who gets what.
    static func expectServing(
        as namespace: String, render: RenderedManifests, api: RealAPIServer, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await api.createServiceAccounts(["outsider"], in: namespace)
        let outsider = try await api.token(serviceAccount: "outsider", namespace: namespace)
        let reader = try api.readerToken()
        try await RealAPIProxy.run(
            api: api, serviceAccount: "controller-manager", namespace: namespace,
            arguments: { upstream, workspace in
                let authority = try await TestCertificateAuthority.create(in: workspace, name: "ca")
                let serving = try await authority.issueServingCertificate(file: "tls", service: "controller-manager-pprof", namespace: namespace)
                return try render.proxyArguments(LocalSidecar(
                    upstream: upstream.upstreamURL, certificate: serving.certificate, privateKey: serving.privateKey,
                    clientCA: authority.certificate, endpointsPort: try FreePort.find()))
            },
            secrets: [outsider, reader]
        ) { proxy in
            let statuses = [try await proxy.status(token: reader), try await proxy.status(token: outsider), try await proxy.status(token: nil)]
            #expect(statuses == [200, 403, 401], "\(namespace): the reader, a ServiceAccount without the binding, no token", sourceLocation: sourceLocation)
            let forwarded = try await proxy.upstream.requests().count
            #expect(forwarded == 1, "only the reader's request reaches pprof", sourceLocation: sourceLocation)
        }
    }
}
