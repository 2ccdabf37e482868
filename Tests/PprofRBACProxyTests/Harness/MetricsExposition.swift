import Foundation

/// Reads sample values out of Prometheus text, for checking what a test recorded.
struct MetricsExposition {
    let text: String

    init(_ bytes: [UInt8]) {
        text = String(decoding: bytes, as: UTF8.self)
    }

    /// The value of the sample written exactly as `series` (name and labels, as emitted), or nil.
    func value(_ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// The value of `series`, 0 when it is not there.
    func count(_ series: String) -> Double {
        value(series) ?? 0
    }
}
