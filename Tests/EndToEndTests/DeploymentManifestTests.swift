import Foundation
import Testing
import Yams
import TestProcesses

/// The kustomize manifests in deploy/, rendered by `kubectl kustomize` and read back as objects.
@Suite(
    "deploy/ manifests", .enabled(if: RenderedManifests.kubectl != nil, "kubectl is not installed: the deploy/ checks need `kubectl kustomize`"),
    .timeLimit(.minutes(3)))
struct DeploymentManifestTests {
    static let overlays = ["cert-manager", "mtls", "parca", "alloy", "prometheus"]
    /// The base and every overlay, as `RenderedManifests.render` takes them.
    static let folders = ["base"] + overlays.map { "overlays/\($0)" }
    static let serviceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token"

    @Test("deploy/overlays holds exactly the overlays these tests render")
    func overlayFolders() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: PackagePaths.root.appendingPathComponent("deploy/overlays").path)
        #expect(folders.sorted() == Self.overlays.sorted())
    }

    @Test("the sidecar: upstream on 127.0.0.1:8081, TLS on 8443, probes on the endpoints port", arguments: folders)
    func sidecar(folder: String) async throws {
        let render = try await RenderedManifests.render(folder)
        let proxy = try render.container(named: "pprof-rbac-proxy")
        let flags = try render.proxyFlags()
        #expect(flags["upstream"] == "http://127.0.0.1:8081/")
        #expect(flags["secure-listen-address"] == "0.0.0.0:8443")
        #expect(render.containerPort(named: "pprof-https", in: proxy) == 8443)

        let service = try render.one(kind: "Service", name: "controller-manager-pprof")
        let servicePorts = service["spec"]?["ports"]?.array() ?? []
        #expect(servicePorts.map { $0["name"]?.string } == ["pprof-https", "proxy-metrics"], "the proxy's port and its metrics, never the probes'")
        #expect(servicePorts.first?["port"]?.int == 8443)
        #expect(servicePorts.first?["targetPort"]?.string == "pprof-https")
        // /metrics on a listener of its own, the one the Service's second port reaches.
        let metricsPort = try #require(flags["metrics-bind-address"]?.split(separator: ":").last.flatMap { Int($0) })
        #expect(servicePorts.last?["targetPort"]?.string == "proxy-metrics")
        #expect(render.containerPort(named: "proxy-metrics", in: proxy) == metricsPort)
        #expect(service["spec"]?["selector"] == (try render.deployment())["spec"]?["template"]?["metadata"]?["labels"])

        let endpointsPort = try #require(flags["proxy-endpoints-port"].flatMap { Int($0) })
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = try #require(proxy[probe]?["httpGet"], "\(probe) is not an httpGet probe")
            #expect(get["path"]?.string == path)
            #expect(get["scheme"]?.string == "HTTPS", "the endpoints port serves TLS only")
            let port = try #require(get["port"]?.string)
            #expect(render.containerPort(named: port, in: proxy) == endpointsPort, "\(probe) must reach --proxy-endpoints-port")
        }

        let servingVolume = try render.volume(holding: try #require(flags["tls-cert-file"]), in: proxy)
        #expect(servingVolume["secret"]?["secretName"]?.string == "pprof-rbac-proxy-tls")
        #expect(try render.volume(holding: try #require(flags["tls-private-key-file"]), in: proxy) == servingVolume)

        let grace = try #require(try render.podSpec()["terminationGracePeriodSeconds"]?.int)
        let drain = try #require(flags["shutdown-grace-period"])
        #expect(drain.hasSuffix("s") && (Int(drain.dropLast()) ?? .max) < grace, "the proxy must finish draining before the kubelet kills it")
    }

    @Test("every container: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp, resources", arguments: folders)
    func hardening(folder: String) async throws {
        let render = try await RenderedManifests.render(folder)
        let pod = try render.podSpec()
        let containers = pod["containers"]?.array() ?? []
        #expect(containers.count == 2)
        for container in containers {
            let name = container["name"]?.string ?? "?"
            let context = try #require(container["securityContext"], "\(name) has no securityContext")
            func effective(_ key: String) -> Node? { context[key] ?? pod["securityContext"]?[key] }
            #expect(effective("runAsNonRoot")?.bool == true, "\(name)")
            #expect(context["allowPrivilegeEscalation"]?.bool == false, "\(name)")
            #expect(context["readOnlyRootFilesystem"]?.bool == true, "\(name)")
            #expect(context["capabilities"]?["drop"]?.array(of: String.self) == ["ALL"], "\(name)")
            #expect(context["capabilities"]?["add"] == nil, "\(name)")
            #expect(context["privileged"]?.bool != true, "\(name)")
            #expect(effective("seccompProfile")?["type"]?.string == "RuntimeDefault", "\(name)")
            let resources = try #require(container["resources"], "\(name) has no resources")
            #expect(resources["requests"]?["cpu"] != nil && resources["requests"]?["memory"] != nil, "\(name)")
            #expect(resources["limits"]?["memory"] != nil, "\(name)")
        }
        #expect(pod["hostNetwork"]?.bool != true && pod["hostPID"]?.bool != true)
    }

    @Test("RBAC: pprof-reader exactly as documented, an example binding, and auth-delegator for the pod's service account", arguments: folders)
    func rbac(folder: String) async throws {
        let render = try await RenderedManifests.render(folder)
        let reader = try render.one(kind: "ClusterRole", name: "pprof-reader")
        let rules = (reader["rules"]?.array() ?? []).map(RBACRule.init)
        #expect(rules == [
            RBACRule(nonResourceURLs: ["/debug/pprof", "/debug/pprof/*"], verbs: ["get"], otherKeys: []),
            RBACRule(nonResourceURLs: ["/debug/pprof/symbol"], verbs: ["post"], otherKeys: []),
        ])

        let example = try render.one(kind: "ClusterRoleBinding", name: "pprof-readers")
        #expect(example["roleRef"]?["name"]?.string == "pprof-reader")
        #expect(example["roleRef"]?["kind"]?.string == "ClusterRole")
        #expect(example["subjects"]?.array().first?["kind"]?.string == "Group")

        let deployment = try render.deployment()
        let namespace = try #require(deployment["metadata"]?["namespace"]?.string)
        let serviceAccount = try #require(try render.podSpec()["serviceAccountName"]?.string)
        let account = try render.one(kind: "ServiceAccount", name: serviceAccount)
        #expect(account["metadata"]?["namespace"]?.string == namespace)
        #expect(account["automountServiceAccountToken"]?.bool != false, "the proxy authenticates to the API with this token")
        let delegators = render.all(kind: "ClusterRoleBinding").filter { $0["roleRef"]?["name"]?.string == "system:auth-delegator" }
        #expect(delegators.count == 1)
        let subjects = delegators.first?["subjects"]?.array() ?? []
        #expect(subjects.count == 1)
        #expect(subjects.first?["kind"]?.string == "ServiceAccount")
        #expect(subjects.first?["name"]?.string == serviceAccount)
        #expect(subjects.first?["namespace"]?.string == namespace)
    }

    @Test("cert-manager: a CA issuer and a serving Certificate for the Service's names, written to the Secret the proxy mounts")
    func certManager() async throws {
        let render = try await RenderedManifests.render("overlays/cert-manager")
        let flags = try render.proxyFlags()
        let mounted = try render.volume(holding: try #require(flags["tls-cert-file"]), in: try render.container(named: "pprof-rbac-proxy"))
        let secret = try #require(mounted["secret"]?["secretName"]?.string)
        let serving = try #require(render.all(kind: "Certificate").first { $0["spec"]?["secretName"]?.string == secret })
        let spec = try #require(serving["spec"])
        let dnsNames = spec["dnsNames"]?.array(of: String.self) ?? []
        for name in try render.serviceNames() + ["localhost"] {
            #expect(dnsNames.contains(name), "the serving certificate lacks \(name)")
        }
        #expect(spec["ipAddresses"]?.array(of: String.self) == ["127.0.0.1"])
        #expect(spec["usages"]?.array(of: String.self).contains("server auth") == true)
        #expect(spec["isCA"]?.bool != true)
        #expect(spec["privateKey"]?["algorithm"]?.string == "ECDSA")

        let issuerName = try #require(spec["issuerRef"]?["name"]?.string)
        let issuer = try render.one(kind: "Issuer", name: issuerName)
        let caSecret = try #require(issuer["spec"]?["ca"]?["secretName"]?.string, "the serving certificate is signed by a CA issuer")
        let authority = try #require(render.all(kind: "Certificate").first { $0["spec"]?["secretName"]?.string == caSecret })
        #expect(authority["spec"]?["isCA"]?.bool == true)
        let root = try render.one(kind: "Issuer", name: try #require(authority["spec"]?["issuerRef"]?["name"]?.string))
        #expect(root["spec"]?["selfSigned"] != nil)
    }

    @Test("mtls: --client-ca-file names ca.crt of the mounted ConfigMap pprof-rbac-proxy-client-ca")
    func mutualTLS() async throws {
        let render = try await RenderedManifests.render("overlays/mtls")
        let clientCA = try #require(try render.proxyFlags()["client-ca-file"])
        #expect(clientCA.hasSuffix("/ca.crt"))
        let volume = try render.volume(holding: clientCA, in: try render.container(named: "pprof-rbac-proxy"))
        #expect(volume["configMap"]?["name"]?.string == "pprof-rbac-proxy-client-ca")
        #expect((try await RenderedManifests.render("base").proxyFlags())["client-ca-file"] == nil, "the base takes bearer tokens only")
    }

    @Test("parca: an https scrape job with bearer_token_file, verifying the Service's name, keeping only the proxy's port; RBAC for it")
    func parca() async throws {
        let render = try await RenderedManifests.render("overlays/parca")
        let config = try render.one(kind: "ConfigMap", name: "parca-pprof-rbac-proxy")
        let parcaYAML = try #require(config["data"]?["parca.yaml"]?.string)
        let parsed = try #require(try Yams.compose(yaml: parcaYAML))
        let jobs = parsed["scrape_configs"]?.array() ?? []
        #expect(jobs.count == 1)
        let job = try #require(jobs.first)
        #expect(job["scheme"]?.string == "https")
        #expect(job["bearer_token_file"]?.string == Self.serviceAccountToken)
        #expect(job["tls_config"]?["insecure_skip_verify"]?.bool != true)
        #expect(job["tls_config"]?["ca_file"]?.string?.isEmpty == false)
        let serverName = try #require(job["tls_config"]?["server_name"]?.string)
        #expect(try render.serviceNames().contains(serverName))
        let deploymentNamespace = try render.deployment()["metadata"]?["namespace"]?.string
        let discovery = job["kubernetes_sd_configs"]?.array().first
        #expect(discovery?["role"]?.string == "pod")
        #expect(discovery?["namespaces"]?["names"]?.array(of: String.self) == [deploymentNamespace].compactMap { $0 })
        let keep = (job["relabel_configs"]?.array() ?? []).first { $0["action"]?.string == "keep" }
        #expect(keep?["source_labels"]?.array(of: String.self) == ["__meta_kubernetes_pod_container_port_name"])
        #expect(keep?["regex"]?.string == "pprof-https")
        try expectScraperRBAC(render, serviceAccount: "parca", namespace: "parca")
    }

    @Test("prometheus: a ServiceMonitor on the Service's proxy-metrics port over https with the token, verifying the Service's name; metrics-reader bound for it")
    func prometheus() async throws {
        let render = try await RenderedManifests.render("overlays/prometheus")
        let monitor = try render.one(kind: "ServiceMonitor", name: "pprof-rbac-proxy")
        let service = try render.one(kind: "Service", name: "controller-manager-pprof")
        let selector = monitor["spec"]?["selector"]?["matchLabels"]?.mapping ?? [:]
        #expect(!selector.isEmpty)
        for (key, value) in selector {
            #expect(service["metadata"]?["labels"]?[key] == value, "the ServiceMonitor must select the Service")
        }
        let endpoint = try #require(monitor["spec"]?["endpoints"]?.array().first)
        #expect(endpoint["port"]?.string == "proxy-metrics")
        #expect(endpoint["scheme"]?.string == "https")
        #expect(endpoint["bearerTokenFile"]?.string == Self.serviceAccountToken)
        #expect(endpoint["tlsConfig"]?["insecureSkipVerify"]?.bool != true)
        #expect(try render.serviceNames().contains(try #require(endpoint["tlsConfig"]?["serverName"]?.string)))
        #expect(endpoint["tlsConfig"]?["ca"]?["secret"]?["name"]?.string == "pprof-rbac-proxy-tls")
        let role = try render.one(kind: "ClusterRole", name: "pprof-rbac-proxy-metrics-reader")
        #expect((role["rules"]?.array() ?? []).map(RBACRule.init) == [RBACRule(nonResourceURLs: ["/metrics"], verbs: ["get"], otherKeys: [])])
        let binding = try render.one(kind: "ClusterRoleBinding", name: "prometheus-pprof-rbac-proxy-metrics-reader")
        #expect(binding["roleRef"]?["name"]?.string == "pprof-rbac-proxy-metrics-reader")
        #expect(binding["subjects"]?.array().first?["name"]?.string == "prometheus-k8s")
    }

    @Test("alloy: pyroscope.scrape over https with bearer_token_file, verifying the Service's name; RBAC for it")
    func alloy() async throws {
        let render = try await RenderedManifests.render("overlays/alloy")
        let config = try render.one(kind: "ConfigMap", name: "alloy-pprof-rbac-proxy")
        let alloy = try #require(config["data"]?["config.alloy"]?.string)
        let settings = alloy.split(separator: "\n").map { $0.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { $0.count == 2 }
        func values(_ key: String) -> [String] { settings.filter { $0[0] == key }.map { $0[1] } }
        #expect(values("bearer_token_file") == ["\"\(Self.serviceAccountToken)\""])
        #expect(values("scheme") == ["\"https\""])
        #expect(values("regex") == ["\"pprof-https\""])
        #expect(values("insecure_skip_verify").isEmpty)
        let serverName = try #require(values("server_name").first?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        #expect(try render.serviceNames().contains(serverName))
        #expect(alloy.contains("pyroscope.scrape \"") && alloy.contains("pyroscope.write \""))
        #expect(alloy.filter { $0 == "{" }.count == alloy.filter { $0 == "}" }.count, "unbalanced braces")
        try expectScraperRBAC(render, serviceAccount: "alloy", namespace: "alloy")
    }

    /// A scraper's service account may read pprof (pprof-reader) and discover the controller's pods.
    func expectScraperRBAC(_ render: RenderedManifests, serviceAccount: String, namespace: String) throws {
        func bindsScraper(_ binding: Node) -> Bool {
            (binding["subjects"]?.array() ?? []).contains {
                $0["kind"]?.string == "ServiceAccount" && $0["name"]?.string == serviceAccount && $0["namespace"]?.string == namespace
            }
        }
        let reader = render.all(kind: "ClusterRoleBinding").filter { $0["roleRef"]?["name"]?.string == "pprof-reader" && bindsScraper($0) }
        #expect(reader.count == 1, "\(namespace)/\(serviceAccount) needs pprof-reader")
        let deploymentNamespace = try render.deployment()["metadata"]?["namespace"]?.string
        let discovery = try #require(render.all(kind: "RoleBinding").first { bindsScraper($0) })
        #expect(discovery["metadata"]?["namespace"]?.string == deploymentNamespace)
        let role = try render.one(kind: "Role", name: try #require(discovery["roleRef"]?["name"]?.string))
        #expect(role["metadata"]?["namespace"]?.string == deploymentNamespace)
        let podRule = (role["rules"]?.array() ?? []).first { $0["resources"]?.array(of: String.self) == ["pods"] }
        #expect(Set(podRule?["verbs"]?.array(of: String.self) ?? []) == ["get", "list", "watch"])
    }

    @Test("the components compose: base with all five renders, each adding its part")
    func componentsCompose() async throws {
        try await using(try TestWorkspace()) { workspace in
            let render = try await RenderedManifests.render(try Self.allComponents(in: workspace))
            #expect(try render.proxyFlags()["client-ca-file"] != nil)
            #expect(render.all(kind: "Certificate").count == 2)
            #expect(try render.one(kind: "ConfigMap", name: "parca-pprof-rbac-proxy")["metadata"]?["namespace"]?.string == "parca")
            #expect(try render.one(kind: "ConfigMap", name: "alloy-pprof-rbac-proxy")["metadata"]?["namespace"]?.string == "alloy")
            #expect(render.all(kind: "ServiceMonitor").count == 1)
        }
    }

    /// A kustomization in `workspace` of base with every component; returns its folder.
    static func allComponents(in workspace: TestWorkspace) throws -> String {
        // kustomize takes only relative paths: climb from the workspace to / and down again.
        let up = String(repeating: "../", count: workspace.directory.standardizedFileURL.pathComponents.count - 1)
        let deploy = up + PackagePaths.root.appendingPathComponent("deploy").standardizedFileURL.path.dropFirst()
        try workspace.write(
            """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - \(deploy)/base
            components:
            \(overlays.map { "  - \(deploy)/components/\($0)" }.joined(separator: "\n"))

            """,
            to: "kustomization.yaml")
        return workspace.directory.path
    }

    @Test("the mtls overlay's sidecar arguments run the real proxy, and the rendered pprof-reader grants get, and post on symbol only")
    func renderedSidecarRuns() async throws {
        let render = try await RenderedManifests.render("overlays/mtls")
        let binding = try render.one(kind: "ClusterRoleBinding", name: "pprof-readers")
        let group = try #require(binding["subjects"]?.array().first?["name"]?.string)
        let rules = (try render.one(kind: "ClusterRole", name: "pprof-reader")["rules"]?.array() ?? []).map(RBACRule.init)
            .map { FakeAPIServerRule(group: group, paths: $0.nonResourceURLs, verbs: $0.verbs) }
        let serviceName = try #require(try render.serviceNames().dropFirst(2).first)
        let flags = try render.proxyFlags()

        try await using(try TestWorkspace()) { workspace in
            let authority = try await TestCertificateAuthority.create(in: workspace, name: "ca")
            let serviceParts = serviceName.split(separator: ".").map(String.init)
            let serving = try await authority.issueServingCertificate(file: "tls", service: serviceParts[0], namespace: serviceParts[1])
            let reader = try await authority.issueClientCertificate(user: "carol", groups: [group], file: "carol")
            let outsider = try await authority.issueClientCertificate(user: "dave", groups: ["others"], file: "dave")
            let endpointsPort = try FreePort.find()
            try await using(try await FakeAPIServer.start(in: workspace, rules: rules)) { apiServer in
                try await using(try await PprofServer.start()) { upstream in
                    // What only a pod has (its ports, the Secret and ConfigMap files, the in-cluster
                    // API) is replaced by this machine's; every other rendered flag is kept as it is.
                    #expect(flags["upstream"] == "http://127.0.0.1:8081/" && flags["client-ca-file"] != nil)
                    let kubeconfig = try workspace.write(
                        ConfigurationFiles.kubeconfig(
                            server: apiServer.url, certificateAuthority: apiServer.certificateAuthority, token: TestUsers.proxyCallerToken),
                        to: "kubeconfig")
                    let arguments = try render.proxyArguments(LocalSidecar(
                        upstream: upstream.upstreamURL, certificate: serving.certificate, privateKey: serving.privateKey,
                        clientCA: authority.certificate, endpointsPort: endpointsPort))
                    try await using(try await ProxyProcess.start(arguments: arguments + ["--kubeconfig", kubeconfig])) { proxy in
                        func request(
                            _ path: String, as certificate: IssuedCertificate?, method: String? = nil, body: String? = nil,
                            port: Int? = nil, version: HTTPVersion = .http1_1
                        ) async throws -> CurlResponse {
                            let port = port ?? proxy.port
                            return try await Curl.perform(CurlRequest(
                                url: "https://\(serviceName):\(port)\(path)", httpVersion: version, method: method, body: body,
                                caCertificate: authority.certificate, clientCertificate: certificate,
                                resolve: ["\(serviceName):\(port):127.0.0.1"]))
                        }
                        for version in HTTPVersion.allCases {
                            let heap = try await request("/debug/pprof/heap", as: reader, version: version)
                            #expect(heap.status == 200, "\(heap.summary)")
                        }
                        #expect(try await request("/debug/pprof/", as: reader).status == 200)
                        #expect(try await request("/debug/pprof/symbol", as: reader, method: "POST", body: "0x0").status == 200)
                        #expect(try await request("/debug/pprof/heap", as: reader, method: "POST", body: "x").status == 403)
                        #expect(try await request("/debug/pprof/heap", as: outsider).status == 403)
                        #expect(try await request("/debug/pprof/heap", as: nil).status == 401)
                        #expect(try await request("/healthz", as: nil, port: endpointsPort).status == 200)
                        let ready = try await request("/readyz", as: nil, port: endpointsPort)
                        #expect(ready.status == 200, "\(ready.summary)")
                        let forwarded = try await upstream.requests().map(\.path)
                        #expect(forwarded.count == 4, "only carol's allowed requests reach pprof: \(forwarded)")
                    }
                }
            }
        }
    }

    @Test("the probes the sidecar declares pass while pprof is not listening and the Kubernetes API is unreachable; /dependencies names both")
    func probesCannotHurtTheController() async throws {
        let render = try await RenderedManifests.render("base")
        let proxyContainer = try render.container(named: "pprof-rbac-proxy")
        let flags = try render.proxyFlags()
        try await using(try TestWorkspace()) { workspace in
            let authority = try await TestCertificateAuthority.create(in: workspace, name: "ca")
            let serving = try await authority.issueServingCertificate(file: "tls", service: "controller-manager-pprof", namespace: "example-system")
            let endpointsPort = try FreePort.find()
            // Nothing listens on these: no pprof (a manager with pprof off), no API server (an outage).
            let nobody = try FreePort.find()
            let kubeconfig = try workspace.write(
                ConfigurationFiles.kubeconfig(server: "https://127.0.0.1:\(nobody)", certificateAuthority: authority.certificate, token: "t"),
                to: "kubeconfig")
            let arguments = try render.proxyArguments(LocalSidecar(
                upstream: "http://127.0.0.1:\(nobody)/", certificate: serving.certificate, privateKey: serving.privateKey,
                endpointsPort: endpointsPort))
            try await using(try await ProxyProcess.start(arguments: arguments + ["--kubeconfig", kubeconfig])) { proxy in
                func get(_ path: String) async throws -> CurlResponse {
                    try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(endpointsPort)\(path)", maxTime: .seconds(10)))
                }
                try await eventually("the endpoints port to answer", timeout: .seconds(10)) {
                    try await get("/healthz").status == 200 ? true : nil
                }
                for probe in ["livenessProbe", "readinessProbe"] {
                    let path = try #require(proxyContainer[probe]?["httpGet"]?["path"]?.string, "\(probe)")
                    let answer = try await get(path)
                    #expect(answer.status == 200, "\(probe) \(path) fails, and the kubelet would act on it: \(answer.summary)")
                }
                let dependencies = try await get("/dependencies")
                #expect(dependencies.status == 503, "\(dependencies.summary)")
                #expect(dependencies.bodyText.contains("upstream") && dependencies.bodyText.contains("Kubernetes API"), "\(dependencies.bodyText)")
                let profile = try await Curl.perform(CurlRequest(url: proxy.baseURL + "/debug/pprof/heap", bearerToken: "t"))
                #expect(profile.status == 503, "requests meanwhile get an answer of their own: \(profile.summary)")
            }
        }
    }

    /// Kinds that belong to no namespace.
    static let clusterScoped: Set<String> = ["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"]

    @Test("every namespaced object names its namespace: the proxy's in example-system, the scrapers' configuration in theirs", arguments: folders)
    func namespaces(folder: String) async throws {
        let render = try await RenderedManifests.render(folder)
        for object in render.objects where !Self.clusterScoped.contains(object["kind"]?.string ?? "") {
            let what = "\(object["kind"]?.string ?? "?") \(object["metadata"]?["name"]?.string ?? "?")"
            let namespace = object["metadata"]?["namespace"]?.string
            let scraper = ["parca", "alloy"].first { folder.hasSuffix($0) && object["kind"]?.string == "ConfigMap" }
            // Without one, `kubectl apply -k` puts it in the caller's current namespace.
            #expect(namespace == (scraper ?? "example-system"), "\(folder): \(what) is in \(namespace ?? "no namespace")")
        }
        let delegator = try render.one(kind: "ClusterRoleBinding", name: "example-system-controller-manager-auth-delegator")
        #expect(delegator["subjects"]?.array().first?["namespace"]?.string == "example-system")
    }

    @Test("moved to another namespace the way docs/deployment.md says: every object follows, the auth-delegator subject too, under a binding name of its own")
    func anotherNamespace() async throws {
        try await using(try TestWorkspace()) { workspace in
            let mine = try Self.documentedKustomization(in: workspace)
            let render = try await RenderedManifests.render(mine)
            for object in render.objects where !Self.clusterScoped.contains(object["kind"]?.string ?? "") {
                #expect(object["metadata"]?["namespace"]?.string == "team-a", "\(object["kind"]?.string ?? "?") \(object["metadata"]?["name"]?.string ?? "?")")
            }
            #expect(try render.one(kind: "Namespace", name: "team-a")["kind"]?.string == "Namespace")
            let delegator = try render.one(kind: "ClusterRoleBinding", name: "team-a-controller-manager-auth-delegator")
            #expect(delegator["subjects"]?.array().first?["namespace"]?.string == "team-a")
            let certificate = try render.one(kind: "Certificate", name: "pprof-rbac-proxy-serving")
            #expect(certificate["spec"]?["dnsNames"]?.array(of: String.self).contains("controller-manager-pprof.team-a.svc") == true)
        }
    }

    /// The kustomization docs/deployment.md gives for namespace team-a, written beside a link to
    /// this checkout named as the docs name it; returns its folder.
    static func documentedKustomization(in workspace: TestWorkspace) throws -> String {
        try FileManager.default.createSymbolicLink(atPath: workspace.path("pprof-rbac-proxy"), withDestinationPath: PackagePaths.root.path)
        try FileManager.default.createDirectory(atPath: workspace.path("mine"), withIntermediateDirectories: true)
        try workspace.write(try DocumentedBlock.text(named: "another-namespace", in: "docs/deployment.md"), to: "mine/kustomization.yaml")
        return workspace.path("mine")
    }

    @Test("the image tag is the binary's version")
    func imageTag() async throws {
        let render = try await RenderedManifests.render("base")
        let image = try #require(try render.container(named: "pprof-rbac-proxy")["image"]?.string)
        let version = try await CompletedProcess.run(try PackagePaths.proxyBinary().path, arguments: ["--version"], timeout: .seconds(10))
        #expect(version.stdout == ["pprof-rbac-proxy \(image.split(separator: ":").last ?? "")"], "image \(image)")
    }
}

/// One rule of a ClusterRole, as compared by the RBAC test.
struct RBACRule: Equatable, CustomStringConvertible {
    let nonResourceURLs: [String]
    let verbs: [String]
    let otherKeys: [String]

    init(nonResourceURLs: [String], verbs: [String], otherKeys: [String]) {
        self.nonResourceURLs = nonResourceURLs
        self.verbs = verbs
        self.otherKeys = otherKeys
    }

    init(_ rule: Node) {
        let keys: [String] = rule.mapping?.keys.compactMap { $0.string } ?? []
        self.init(
            nonResourceURLs: rule["nonResourceURLs"]?.array(of: String.self) ?? [],
            verbs: rule["verbs"]?.array(of: String.self) ?? [],
            otherKeys: keys.filter { $0 != "nonResourceURLs" && $0 != "verbs" })
    }

    var description: String { "\(nonResourceURLs) \(verbs) \(otherKeys)" }
}
