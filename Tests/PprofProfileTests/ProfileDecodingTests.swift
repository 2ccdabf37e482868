import Foundation
import TestProcesses
import Testing
@testable import PprofProfile

@Suite("PprofProfile: decoding and encoding")
struct ProfileDecodingTests {
    @Test("a real CPU profile decodes; encoded again it decodes to the same profile, and Go reads it", arguments: [0, 4, 9])
    func roundTrip(index: Int) async throws {
        let path = ProfileFixtures.slicePaths[index]
        let profile = try ProfileFile.decode(try ProfileFixtures.bytes(path))
        #expect(profile.text(profile.sampleTypes[1].type) == "cpu" && profile.text(profile.sampleTypes[1].unit) == "nanoseconds")
        #expect(!profile.samples.isEmpty && profile.durationNanos > 900_000_000)
        let encoded = ProfileFile.encode(profile)
        #expect(Gzip.isGzip(encoded))
        #expect(try ProfileFile.decode(encoded) == profile)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID().uuidString).pb.gz")
        try Data(encoded).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try await GoPprof.totalSamples(file.path) == GoPprof.totalSamples(path))
    }

    @Test("bytes that are not a profile: a clear error each, never a crash", arguments: [
        "truncated gzip", "corrupt gzip", "text", "empty",
    ])
    func notProfiles(damage: String) throws {
        var bytes = try ProfileFixtures.bytes(ProfileFixtures.slicePaths[0])
        switch damage {
        case "truncated gzip": bytes = Array(bytes.prefix(bytes.count / 2))
        case "corrupt gzip": for index in 12..<40 { bytes[index] ^= 0x5a }
        case "text": bytes = Array("404 page not found\n".utf8)
        default: bytes = []
        }
        #expect(throws: ProfileError.self) { try ProfileFile.decode(bytes) }
    }

    @Test("a message whose references do not resolve is malformed", arguments: [
        "location", "function", "mapping", "string", "values", "first string",
    ])
    func danglingReferences(broken: String) throws {
        var profile = try ProfileFixtures.slices()[0]
        switch broken {
        case "location": profile.samples[0].locationIDs.append(999_999)
        case "function": profile.locations[0].lines[0].functionID = 999_999
        case "mapping": profile.locations[0].mappingID = 999_999
        case "string": profile.functions[0].name = profile.strings.count
        case "values": profile.samples[0].values.append(1)
        default: profile.strings[0] = Array("x".utf8)
        }
        #expect(throws: ProfileError.self) { try Profile(decoding: profile.encoded()) }
    }

    @Test("size and memory are bounded: a gzip bomb, and a message of many tiny entries")
    func bounds() throws {
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 4 << 20))
        #expect(bomb.count < 64 << 10)
        #expect(throws: ProfileError.tooLarge("it holds more than \(1 << 20) bytes")) {
            try ProfileFile.decode(bomb, sizeLimit: 1 << 20)
        }
        // 100 000 empty string entries: 200 000 bytes on the wire, over 3 MiB decoded.
        var message: [UInt8] = []
        for _ in 0..<100_000 { message += [0x32, 0x00] }
        #expect(throws: ProfileError.self) { try Profile(decoding: message, memoryLimit: 1 << 20) }
        #expect(try Profile(decoding: message).strings.count == 100_000)
    }

    @Test("varints longer than 64 bits, lengths past the end, unknown wire types", arguments: [
        [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        [0x12, 0x05, 0x01],
        [0x0b],
        [0x00],
        [0x08],
    ] as [[UInt8]])
    func wireFormat(bytes: [UInt8]) {
        #expect(throws: ProfileError.self) { try Profile(decoding: bytes) }
    }
}
