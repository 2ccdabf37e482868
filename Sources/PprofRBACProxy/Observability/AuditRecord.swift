import Foundation

/// One line of the audit log: who asked for what, what the gate decided and why, and how the
/// exchange ended. Made from an `ExchangeRecord`, so it holds no credential either.
struct AuditRecord: Encodable, Sendable {
    /// An authentication or authorization answer: who gave it and whether it was remembered.
    struct Origin: Encodable, Sendable {
        let source: String
        let cached: Bool
    }

    /// When the request head arrived, RFC 3339 in UTC with milliseconds.
    let time: String
    let user: String?
    let groups: [String]?
    let clientAddress: String?
    let method: String
    /// The path as sent (cut at 256 bytes), without the query.
    let path: String
    /// The pprof parameters present in the query (`seconds`, `debug`, `gc`); nil when none is.
    let parameters: [String: String]?
    /// `allowed`, `refused`, or `none` when the exchange ended before the gate decided.
    let decision: String
    /// The status of a refusal.
    let refusalStatus: UInt?
    let authentication: Origin?
    let authorization: Origin?
    /// The final status sent; nil when none was.
    let status: UInt?
    /// Response body bytes sent.
    let bytes: Int
    /// From the request head to the end of the exchange, in seconds.
    let durationSeconds: Double
    /// `completed`, or `aborted` when the connection or stream ended before the response did.
    let outcome: String
    /// The CPU profile slices a sliced capture was merged from, by number (consecutive).
    struct Slices: Encodable, Sendable {
        let first: UInt64
        let last: UInt64
        let count: UInt64
    }

    /// How a CPU profile or trace met the capture scheduler: `started`, `joined`, `queued` or `sliced`.
    let capture: String?
    /// How long a queued capture waited, in seconds.
    let captureWaitSeconds: Double?
    /// The slices a `sliced` capture was merged from.
    let captureSlices: Slices?
    /// The longest time between two slices of a `sliced` capture, in seconds.
    let captureLargestGapSeconds: Double?

    init(_ record: ExchangeRecord) {
        time = record.start.formatted(Self.timeFormat)
        user = record.user?.name
        groups = record.user?.groups
        clientAddress = record.clientAddress
        method = record.method
        path = record.path
        parameters = record.parameters.isEmpty ? nil : record.parameters
        switch record.decision?.verdict {
        case .forward:
            decision = "allowed"
            refusalStatus = nil
        case .refuse(let error):
            decision = "refused"
            refusalStatus = error.status.code
        case nil:
            decision = "none"
            refusalStatus = nil
        }
        authentication = record.decision?.authentication.map { Origin(source: $0.source.rawValue, cached: $0.cached) }
        authorization = record.decision?.authorization.map { Origin(source: $0.source.rawValue, cached: $0.cached) }
        status = record.status
        bytes = record.bytes
        durationSeconds = Self.seconds(record.duration)
        outcome = record.completed ? "completed" : "aborted"
        captureWaitSeconds = if case .queued(let wait) = record.capture { Self.seconds(wait) } else { nil }
        switch record.capture {
        case .sliced(let slices, let largestGap):
            captureSlices = Slices(first: slices.lowerBound, last: slices.upperBound, count: UInt64(slices.count))
            captureLargestGapSeconds = largestGap.map(Self.seconds)
        default:
            captureSlices = nil
            captureLargestGapSeconds = nil
        }
        capture =
            switch record.capture {
            case .started: "started"
            case .joined: "joined"
            case .queued: "queued"
            case .sliced: "sliced"
            case nil: nil
            }
    }

    /// The record as one line of JSON, newline included.
    func jsonLine() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(self)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// `2025-01-31T12:34:56.789Z`.
    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// Whole microseconds, as fractional seconds.
    private static func seconds(_ duration: Duration) -> Double {
        let microseconds = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        return Double(microseconds) / 1_000_000
    }
}
