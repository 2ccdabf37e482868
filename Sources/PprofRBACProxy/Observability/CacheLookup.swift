/// Whether an answer came from a cache.
enum CacheLookup: String, CaseIterable, Sendable {
    case hit
    case miss
}
