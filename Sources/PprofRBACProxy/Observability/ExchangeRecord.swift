import Foundation
import RequestPolicy

/// Everything known about one exchange when it ends: what the access log, the audit log and the
/// metrics are made of. Holds no credential.
package struct ExchangeRecord: Sendable {
    /// How a CPU profile or trace request met the capture scheduler.
    package enum CaptureParticipation: Sendable, Hashable {
        /// It started a capture of its own right away.
        case started
        /// It joined a capture with the same parameters that had just started.
        case joined
        /// It waited this long for the running capture, then started its own.
        case queued(wait: Duration)
        /// It was answered with the merge of these CPU profile slices; `largestGap` is the longest
        /// time between two of them, once known.
        case sliced(ClosedRange<UInt64>, largestGap: Duration?)
    }

    package var start: Date
    package var duration: Duration = .zero
    package var clientAddress: String?
    package var method: String
    /// The path as the client sent it (cut at 256 bytes).
    package var path: String
    /// The pprof parameters of the query (`seconds`, `debug`, `gc`), as Go reads them: first value.
    package var parameters: [String: String] = [:]
    package var user: UserInfo?
    /// The gate's decision, nil when the exchange ended before one (or had no head).
    package var decision: GateDecision?
    package var capture: CaptureParticipation?
    /// From sending the request upstream to the upstream's response head; nil when not forwarded
    /// or when the upstream never answered.
    package var upstreamLatency: Duration?
    /// The final status sent, nil when none was.
    package var status: UInt?
    /// Response body bytes sent.
    package var bytes = 0
    /// False when the connection or stream ended before the response did.
    package var completed = false

    /// The pprof query parameters worth recording.
    static let recordedParameters = ["seconds", "debug", "gc"]
}

/// Receives every finished exchange. Called on the exchange's event loop: keep it quick.
package protocol ExchangeObserver: Sendable {
    func exchangeEnded(_ record: ExchangeRecord)
}

/// Sent toward the head of the pipeline when the gate has decided, so the record can hold it.
struct GateDecidedEvent: Sendable {
    let decision: GateDecision
}

/// Sent toward the head of the pipeline when the upstream's response head arrives.
struct UpstreamRespondedEvent: Sendable {
    let latency: Duration
}

/// Sent toward the head of the pipeline when the capture scheduler has placed a request.
struct CaptureScheduledEvent: Sendable {
    let participation: ExchangeRecord.CaptureParticipation
}
