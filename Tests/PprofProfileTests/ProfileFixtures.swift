import Foundation
@testable import PprofProfile

/// Real profiles of one Go program, made by tools/profile-slices: ten CPU profiles of one second
/// taken back to back, and a heap profile.
enum ProfileFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/cpu-slices")

    static var slicePaths: [String] {
        (1...10).map { directory.appendingPathComponent(String(format: "slice-%02d.pb.gz", $0)).path }
    }

    static var heapPath: String { directory.appendingPathComponent("heap.pb.gz").path }

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func slices() throws -> [Profile] {
        try slicePaths.map { try ProfileFile.decode(try bytes($0)) }
    }

    /// Each sample as its stack of function names (leaf first) and its labels, with the values of
    /// all samples that read the same summed: what a merge must keep, whatever ids it chose.
    static func stacks(_ profile: Profile) -> [String: [Int64]] {
        var functions: [UInt64: String] = [:]
        for function in profile.functions { functions[function.id] = profile.text(function.name) }
        var locations: [UInt64: String] = [:]
        for location in profile.locations {
            locations[location.id] = location.lines.map { functions[$0.functionID] ?? "?" }.joined(separator: "<")
                + String(format: "@%llx", location.address)
        }
        var stacks: [String: [Int64]] = [:]
        for sample in profile.samples {
            let labels = sample.labels.map { "\(profile.text($0.key))=\(profile.text($0.string))\($0.number)\(profile.text($0.numberUnit))" }
            let key = sample.locationIDs.map { locations[$0] ?? "?" }.joined(separator: " ") + " " + labels.sorted().joined(separator: ",")
            let sum = stacks[key] ?? Array(repeating: 0, count: sample.values.count)
            stacks[key] = zip(sum, sample.values).map { $0 + $1 }
        }
        return stacks
    }

    /// The summed values of every sample.
    static func totals(_ profile: Profile) -> [Int64] {
        profile.samples.reduce(Array(repeating: 0, count: profile.sampleTypes.count)) { sum, sample in
            zip(sum, sample.values).map { $0 + $1 }
        }
    }
}
