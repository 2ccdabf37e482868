import Synchronization

/// A flag one task raises to tell the tasks looping beside it to stop.
final class StopSignal: Sendable {
    private let raised = Atomic(false)

    func raise() {
        raised.store(true, ordering: .sequentiallyConsistent)
    }

    var isRaised: Bool {
        raised.load(ordering: .sequentiallyConsistent)
    }
}
