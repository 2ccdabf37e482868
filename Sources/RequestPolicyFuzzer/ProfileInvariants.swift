import PprofProfile

/// What must hold for any bytes an upstream can send as a CPU profile slice, checked on one fuzzer
/// input: decoding gives a profile or a `ProfileError` (within its memory limit, never a crash);
/// a profile that decodes encodes to bytes that decode to it again, and merges with itself.
enum ProfileInvariants {
    static func check(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        _ = try? Gzip.decompress(bytes, limit: 1 << 20)
        guard let profile = try? Profile(decoding: bytes, memoryLimit: 8 << 20) else { return }
        let again = try? Profile(decoding: profile.encoded())
        RequestPolicyInvariants.expect(again == profile, "a decoded profile, encoded and decoded again, is not the same profile")
        var merger = ProfileMerger(memoryLimit: 16 << 20)
        do {
            try merger.add(profile)
            try merger.add(profile)
        } catch {
            if case .tooLarge = error { return }
            RequestPolicyInvariants.expect(false, "a profile does not merge with itself: \(error)")
        }
        let merged = merger.profile
        RequestPolicyInvariants.expect((try? Profile(decoding: merged.encoded())) != nil, "a merge does not decode")
    }
}
