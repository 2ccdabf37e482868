import RequestPolicy
import Testing

/// The `Pprof-Capture` field of the proxy's `102 Processing` answers, as the proxy writes it and
/// `kubectl pprof` reads it.
@Suite("CaptureProgress")
struct CaptureProgressTests {
    @Test("every state reads back as written")
    func roundTrip() {
        let states: [CaptureProgress] = [
            .queued(position: 1), .queued(position: 12), .started(waited: nil), .started(waited: .milliseconds(4_200)), .joined,
            .sliced(done: 0, of: 10), .sliced(done: 10, of: 10),
        ]
        for state in states {
            #expect(CaptureProgress(fieldValue: state.fieldValue) == state, "\(state.fieldValue)")
        }
    }

    @Test("the written form", arguments: [
        (CaptureProgress.queued(position: 2), "queued; position=2"),
        (.started(waited: nil), "started"),
        (.started(waited: .milliseconds(4_249)), "started; waited=4.2"),
        (.started(waited: .milliseconds(950)), "started; waited=1.0"),
        (.joined, "joined"),
        (.sliced(done: 3, of: 30), "sliced; done=3; slices=30"),
    ])
    func written(state: CaptureProgress, text: String) {
        #expect(state.fieldValue == text)
    }

    @Test("unknown or broken values are ignored, not guessed at", arguments: [
        "", "finished", "queued", "queued; position=0", "queued; position=x", "QUEUED; position=1",
        "sliced", "sliced; done=3", "sliced; done=11; slices=10", "sliced; done=-1; slices=10", "sliced; done=0; slices=0",
    ])
    func ignored(text: String) {
        #expect(CaptureProgress(fieldValue: text) == nil)
    }

    @Test("only the value 1 asks")
    func asking() {
        #expect(CaptureProgress.isRequested(by: ["1"]))
        #expect(CaptureProgress.isRequested(by: [" 1 "]))
        #expect(!CaptureProgress.isRequested(by: []))
        #expect(!CaptureProgress.isRequested(by: ["0", "yes"]))
    }
}
