import Foundation

/// The fields of a Pod that `kubectl pprof` reads.
package struct Pod: Decodable, Sendable {
    package struct Metadata: Decodable, Sendable {
        package var name: String
        package var labels: [String: String]?
    }

    package struct Port: Decodable, Sendable {
        package var name: String?
        package var containerPort: Int
    }

    package struct Container: Decodable, Sendable {
        package var name: String
        package var ports: [Port]?
    }

    package struct Spec: Decodable, Sendable {
        package var containers: [Container]
    }

    package struct Condition: Decodable, Sendable {
        package var type: String
        package var status: String
    }

    package struct Status: Decodable, Sendable {
        package var phase: String?
        package var conditions: [Condition]?
    }

    package var metadata: Metadata
    package var spec: Spec?
    package var status: Status?

    /// Running, with condition Ready true: what kubectl port-forward and a proxy's readiness need.
    package var isRunningAndReady: Bool {
        status?.phase == "Running" && (status?.conditions ?? []).contains { $0.type == "Ready" && $0.status == "True" }
    }

    /// "Running, not Ready", "Pending", … for the error that lists pods passed over.
    package var stateDescription: String {
        let phase = status?.phase ?? "no phase"
        return phase == "Running" && !isRunningAndReady ? "Running, not Ready" : phase
    }

    /// Every container port it declares.
    package var ports: [Port] { (spec?.containers ?? []).flatMap { $0.ports ?? [] } }
}

/// A list of pods.
package struct PodList: Decodable, Sendable {
    package var items: [Pod]
}

/// The selector of a Deployment.
package struct Deployment: Decodable, Sendable {
    package struct Requirement: Decodable, Sendable {
        package var key: String
        package var `operator`: String
        package var values: [String]?
    }

    package struct Selector: Decodable, Sendable {
        package var matchLabels: [String: String]?
        package var matchExpressions: [Requirement]?
    }

    package struct Spec: Decodable, Sendable {
        package var selector: Selector
    }

    package var spec: Spec

    /// The selector in kubectl's `-l` syntax.
    package var labelSelector: String {
        var terms = (spec.selector.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for requirement in spec.selector.matchExpressions ?? [] {
            let values = (requirement.values ?? []).joined(separator: ",")
            switch requirement.operator {
            case "In": terms.append("\(requirement.key) in (\(values))")
            case "NotIn": terms.append("\(requirement.key) notin (\(values))")
            case "Exists": terms.append(requirement.key)
            case "DoesNotExist": terms.append("!\(requirement.key)")
            default: break
            }
        }
        return terms.joined(separator: ",")
    }
}

/// The fields of a Service that name the proxy's certificate: which pods it selects and which of their ports.
package struct Service: Decodable, Sendable {
    package struct Metadata: Decodable, Sendable {
        package var name: String
    }

    /// `targetPort`: a number or a container port name.
    package enum TargetPort: Decodable, Sendable, Equatable {
        case number(Int)
        case name(String)

        package init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                self = .number(number)
            } else {
                self = .name(try container.decode(String.self))
            }
        }
    }

    package struct Port: Decodable, Sendable {
        package var port: Int
        package var targetPort: TargetPort?
    }

    package struct Spec: Decodable, Sendable {
        package var selector: [String: String]?
        package var ports: [Port]?
    }

    package var metadata: Metadata
    package var spec: Spec?

    /// Whether it sends traffic for port `port` (named `portName`) to `pod`.
    package func serves(_ pod: Pod, port: Int, portName: String?) -> Bool {
        guard let selector = spec?.selector, !selector.isEmpty else { return false }
        let labels = pod.metadata.labels ?? [:]
        guard selector.allSatisfy({ labels[$0.key] == $0.value }) else { return false }
        return (spec?.ports ?? []).contains { servicePort in
            switch servicePort.targetPort ?? .number(servicePort.port) {
            case .number(let number): number == port
            case .name(let name): name == portName
            }
        }
    }
}

/// A list of services.
package struct ServiceList: Decodable, Sendable {
    package var items: [Service]
}
