import NIOCore

/// Runs Swift concurrency jobs on one NIO event loop, so that async work a handler starts (the gate's
/// decision) stays on its channel's thread: an answer from the caches costs no thread hop at all.
final class EventLoopTaskExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
