/// A condition an upstream test waited for did not come true, or the upstream answered unexpectedly.
struct UpstreamTestFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
