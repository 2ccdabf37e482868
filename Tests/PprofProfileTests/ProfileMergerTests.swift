import Foundation
import TestProcesses
import Testing
@testable import PprofProfile

@Suite("PprofProfile: merging")
struct ProfileMergerTests {
    @Test("ten real one-second slices merge as Go merges them: the same stacks, labels and totals, time and duration")
    func mergesAsGoDoes() async throws {
        var merger = ProfileMerger()
        for slice in try ProfileFixtures.slices() { try merger.add(slice) }
        let ours = merger.profile
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("merge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let oursPath = directory.appendingPathComponent("ours.pb.gz").path
        try Data(ProfileFile.encode(ours)).write(to: URL(fileURLWithPath: oursPath))
        let goPath = directory.appendingPathComponent("go.pb.gz").path
        try await GoPprof.run(["-proto", "-output", goPath] + ProfileFixtures.slicePaths)
        let go = try ProfileFile.decode(try ProfileFixtures.bytes(goPath))

        #expect(ProfileFixtures.stacks(ours) == ProfileFixtures.stacks(go))
        #expect(ProfileFixtures.totals(ours) == ProfileFixtures.totals(go))
        #expect(ours.samples.count == go.samples.count, "identical stacks are one sample")
        #expect(ours.locations.count <= go.locations.count && ours.functions.count == go.functions.count)
        #expect(ours.timeNanos == go.timeNanos && ours.durationNanos == go.durationNanos && ours.period == go.period)
        #expect(ProfileFixtures.totals(ours).allSatisfy { $0 > 0 })
        // Go's own reader takes ours and finds what it found in its own merge.
        #expect(try await GoPprof.totalSamples(oursPath) == GoPprof.totalSamples(goPath))
    }

    @Test("a profile merged with itself: every value doubled, no entry repeated")
    func mergeWithItself() throws {
        let slice = try ProfileFixtures.slices()[0]
        var once = ProfileMerger()
        try once.add(slice)
        var twice = ProfileMerger()
        try twice.add(slice)
        try twice.add(slice)
        #expect(twice.count == 2)
        #expect(twice.profile.samples.count == once.profile.samples.count)
        #expect(twice.profile.locations.count == once.profile.locations.count)
        #expect(twice.profile.strings.count == once.profile.strings.count)
        #expect(ProfileFixtures.totals(twice.profile) == ProfileFixtures.totals(once.profile).map { $0 * 2 })
        #expect(twice.profile.durationNanos == 2 * slice.durationNanos)
        #expect(ProfileFixtures.stacks(once.profile) == ProfileFixtures.stacks(slice))
    }

    @Test("a heap profile does not merge into CPU profiles, and says why")
    func incompatible() throws {
        var merger = ProfileMerger()
        try merger.add(try ProfileFixtures.slices()[0])
        let heap = try ProfileFile.decode(try ProfileFixtures.bytes(ProfileFixtures.heapPath))
        #expect(throws: ProfileError.self) { try merger.add(heap) }
        do {
            try merger.add(heap)
        } catch {
            #expect("\(error)".contains("samples/count cpu/nanoseconds"), "\(error)")
        }
    }

    @Test("labels in another order are the same sample; zero samples are dropped")
    func labelsAndZeros() throws {
        var profile = Profile()
        profile.strings = [[], Array("samples".utf8), Array("count".utf8), Array("a".utf8), Array("b".utf8), Array("x".utf8), Array("f".utf8)]
        profile.sampleTypes = [.init(type: 1, unit: 2)]
        profile.functions = [.init(id: 7, name: 6, systemName: 6, filename: 0, startLine: 0)]
        profile.locations = [.init(id: 9, mappingID: 0, address: 0x10, lines: [.init(functionID: 7, line: 3, column: 0)], isFolded: false)]
        let a = Profile.Label(key: 3, string: 5, number: 0, numberUnit: 0)
        let b = Profile.Label(key: 4, string: 0, number: 42, numberUnit: 0)
        profile.samples = [
            .init(locationIDs: [9], values: [1], labels: [a, b]),
            .init(locationIDs: [9], values: [2], labels: [b, a]),
            .init(locationIDs: [9], values: [0], labels: []),
        ]
        var merger = ProfileMerger()
        try merger.add(try Profile(decoding: profile.encoded()))
        #expect(merger.profile.samples.count == 1)
        #expect(merger.profile.samples.first?.values == [3])
    }

    @Test("past its memory limit a merge stops with an error, not more memory")
    func memoryLimit() throws {
        var merger = ProfileMerger(memoryLimit: 4096)
        #expect(throws: ProfileError.self) {
            for slice in try ProfileFixtures.slices() { try merger.add(slice) }
        }
    }
}
