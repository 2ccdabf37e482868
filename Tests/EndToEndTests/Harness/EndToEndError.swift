/// A failure of the end-to-end rig itself (a process that would not start, a wait that timed out).
struct EndToEndError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
