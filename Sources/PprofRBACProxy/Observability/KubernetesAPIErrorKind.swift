/// Why a Kubernetes API call failed, as a metric label.
enum KubernetesAPIErrorKind: String, Sendable {
    case unreachable
    case timeout
    case unexpectedStatus = "unexpected_status"
    case invalidResponse = "invalid_response"
    case cancelled
    case other

    init(_ error: any Error) {
        switch error {
        case let error as KubernetesAPIError:
            switch error {
            case .unreachable: self = .unreachable
            case .timedOut: self = .timeout
            case .unexpectedStatus: self = .unexpectedStatus
            case .invalidResponse: self = .invalidResponse
            }
        case is CancellationError:
            self = .cancelled
        default:
            self = .other
        }
    }
}
