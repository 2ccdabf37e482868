import Foundation
import Testing

@testable import KubectlPprof

/// Choosing pods and the proxy's port from what the API returns.
@Suite("PodResolver")
struct PodResolverTests {
    private func pod(_ name: String, phase: String = "Running", ready: Bool = true, ports: [(String?, Int)] = [("pprof-https", 8443)],
                     labels: [String: String] = ["app": "m"]) throws -> Pod {
        let portsJSON = ports.map { port in
            (port.0.map { #"{"name":"\#($0)","containerPort":\#(port.1)}"# } ?? #"{"containerPort":\#(port.1)}"#)
        }.joined(separator: ",")
        let labelsJSON = labels.map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ",")
        let json = """
            {"metadata":{"name":"\(name)","labels":{\(labelsJSON)}},
             "spec":{"containers":[{"name":"manager"},{"name":"proxy","ports":[\(portsJSON)]}]},
             "status":{"phase":"\(phase)","conditions":[{"type":"Ready","status":"\(ready ? "True" : "False")"}]}}
            """
        return try JSONDecoder().decode(Pod.self, from: Data(json.utf8))
    }

    @Test("the first Running, Ready pod by name, or all of them")
    func choose() throws {
        let pods = [try pod("c"), try pod("b"), try pod("a", ready: false), try pod("0", phase: "Pending", ready: false)]
        #expect(try PodResolver.choose(from: pods, all: false, described: "deploy/m", namespace: "ns").map(\.metadata.name) == ["b"])
        #expect(try PodResolver.choose(from: pods, all: true, described: "deploy/m", namespace: "ns").map(\.metadata.name) == ["b", "c"])
    }

    @Test("none Running and Ready: the error lists the pods and their state")
    func noneReady() throws {
        let pods = [try pod("b", ready: false), try pod("a", phase: "Pending", ready: false)]
        #expect(throws: PluginFailure.noPod("no Running, Ready pod for -l app=m in namespace ns (a Pending, b Running, not Ready)")) {
            try PodResolver.choose(from: pods, all: false, described: "-l app=m", namespace: "ns")
        }
        #expect(throws: PluginFailure.noPod("no pod matches pod/x in namespace ns")) {
            try PodResolver.choose(from: [], all: false, described: "pod/x", namespace: "ns")
        }
    }

    @Test("the port: --port (number or name), else pprof-https, else 8443")
    func ports() throws {
        let named = try pod("a", ports: [("metrics", 8080), ("pprof-https", 9443)])
        #expect(try PodResolver.proxyPort(of: named, option: nil) == (9443, "pprof-https"))
        #expect(try PodResolver.proxyPort(of: named, option: "metrics") == (8080, "metrics"))
        #expect(try PodResolver.proxyPort(of: named, option: "7000").number == 7000)
        #expect(try PodResolver.proxyPort(of: try pod("b", ports: [(nil, 8443)]), option: nil).number == 8443)
        #expect(try PodResolver.proxyPort(of: try pod("c", ports: []), option: nil).number == 8443, "no ports declared: 8443")
        #expect(throws: PluginFailure.self) { try PodResolver.proxyPort(of: try pod("d", ports: [("metrics", 8080)]), option: nil) }
        #expect(throws: PluginFailure.self) { try PodResolver.proxyPort(of: named, option: "debug") }
    }

    @Test("a Deployment's selector in -l syntax")
    func deploymentSelector() throws {
        let json = #"""
            {"spec":{"selector":{"matchLabels":{"b":"2","a":"1"},"matchExpressions":[
              {"key":"tier","operator":"In","values":["x","y"]},{"key":"env","operator":"NotIn","values":["dev"]},
              {"key":"has","operator":"Exists"},{"key":"not","operator":"DoesNotExist"}]}}}
            """#
        let deployment = try JSONDecoder().decode(Deployment.self, from: Data(json.utf8))
        #expect(deployment.labelSelector == "a=1,b=2,tier in (x,y),env notin (dev),has,!not")
    }

    @Test("a Service serves a pod's port by number or by name")
    func services() throws {
        let service = try JSONDecoder().decode(Service.self, from: Data(#"""
            {"metadata":{"name":"m-pprof"},"spec":{"selector":{"app":"m"},"ports":[{"port":8443,"targetPort":"pprof-https"}]}}
            """#.utf8))
        let numbered = try JSONDecoder().decode(Service.self, from: Data(#"""
            {"metadata":{"name":"n"},"spec":{"selector":{"app":"m"},"ports":[{"port":443,"targetPort":8443}]}}
            """#.utf8))
        let a = try pod("a")
        #expect(service.serves(a, port: 8443, portName: "pprof-https"))
        #expect(!service.serves(a, port: 8443, portName: nil))
        #expect(numbered.serves(a, port: 8443, portName: nil))
        #expect(!numbered.serves(try pod("b", labels: ["app": "other"]), port: 8443, portName: nil))
    }
}
