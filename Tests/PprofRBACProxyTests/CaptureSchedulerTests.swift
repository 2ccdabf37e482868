import NIOConcurrencyHelpers
import NIOEmbedded
import Testing

@testable import PprofRBACProxy

@Suite("CaptureScheduler: one CPU profile and one trace at a time")
struct CaptureSchedulerTests {
    let clock = ManualClock()
    let loop = EmbeddedEventLoop()

    func scheduler(
        queueSize: Int = 2, queueTimeout: Duration = .seconds(60), perUser: Int = 2,
        metrics: ProxyMetrics = ProxyMetrics()
    ) -> CaptureScheduler {
        CaptureScheduler(
            configuration: .init(joinWindow: .seconds(2), queueTimeout: queueTimeout, queueSize: queueSize, maximumPerUser: perUser),
            metrics: metrics, now: clock.now
        )
    }

    func cpu(_ seconds: Double, method: String = "GET") -> CaptureScheduler.Request {
        CaptureScheduler.Request(lane: .cpu, key: "\(method) /debug/pprof/profile \(seconds)", seconds: seconds)
    }

    /// Admits `request` with a fresh capture; `turns` records which waiters were given their turn.
    func admit(
        _ request: CaptureScheduler.Request, to scheduler: CaptureScheduler, turns: NIOLockedValueBox<[UInt64]>? = nil
    ) -> (id: UInt64, admission: CaptureScheduler.Admission) {
        let id = scheduler.newID()
        let capture = SharedCapture(id: id, lane: request.lane, eventLoop: loop, scheduler: scheduler)
        let admission = scheduler.admit(request, id: id, capture: capture.handle) {
            turns?.withLockedValue { $0.append(id) }
        }
        return (id, admission)
    }

    @Test("the first runs; an identical request within the join window joins; after it, or different, waits")
    func joinOrWait() {
        let scheduler = scheduler(queueSize: 5)
        guard case .start = admit(cpu(3), to: scheduler).admission else { Issue.record("expected start"); return }
        guard case .join = admit(cpu(3), to: scheduler).admission else { Issue.record("expected join"); return }
        guard case .wait = admit(cpu(3, method: "HEAD"), to: scheduler).admission else { Issue.record("HEAD must not join GET"); return }
        guard case .wait = admit(cpu(4), to: scheduler).admission else { Issue.record("other seconds must wait"); return }
        clock.advance(by: .seconds(2))
        guard case .wait = admit(cpu(3), to: scheduler).admission else { Issue.record("after the window it waits"); return }
        let trace = CaptureScheduler.Request(lane: .trace, key: "GET /debug/pprof/trace 3.0", seconds: 3)
        guard case .start = admit(trace, to: scheduler).admission else { Issue.record("the tracer is a lane of its own"); return }
        #expect(scheduler.occupancy(.cpu) == (1, 3))
        #expect(scheduler.occupancy(.trace) == (1, 0))
    }

    @Test("a capture whose replay buffer filled cannot be joined any more")
    func stopJoining() {
        let scheduler = scheduler()
        let (id, _) = admit(cpu(3), to: scheduler)
        scheduler.stopJoining(id)
        guard case .wait = admit(cpu(3), to: scheduler).admission else { Issue.record("expected wait"); return }
    }

    @Test("waiters get their turn in order when the running capture finishes; an abandoned one is skipped")
    func fifo() {
        let scheduler = scheduler(queueSize: 5)
        let turns = NIOLockedValueBox<[UInt64]>([])
        let first = admit(cpu(1), to: scheduler, turns: turns).id
        let second = admit(cpu(2), to: scheduler, turns: turns).id
        let third = admit(cpu(3), to: scheduler, turns: turns).id
        let fourth = admit(cpu(4), to: scheduler, turns: turns).id
        #expect(scheduler.abandonWait(third))
        scheduler.finished(first)
        #expect(turns.withLockedValue { $0 } == [second])
        #expect(!scheduler.abandonWait(second), "already given its turn")
        scheduler.finished(second)
        #expect(turns.withLockedValue { $0 } == [second, fourth])
        scheduler.finished(fourth)
        #expect(scheduler.occupancy(.cpu) == (0, 0))
        scheduler.finished(first)
        #expect(turns.withLockedValue { $0 } == [second, fourth], "finishing twice changes nothing")
    }

    @Test("a full queue, or a wait longer than the timeout, is 429 with Retry-After")
    func refusals() {
        let full = scheduler(queueSize: 1)
        _ = admit(cpu(10), to: full)
        _ = admit(cpu(5), to: full)
        guard case .refuse(.tooManyRequests(let reason, let retryAfter)) = admit(cpu(1), to: full).admission else {
            Issue.record("expected 429")
            return
        }
        #expect(reason.contains("--capture-queue-size"))
        #expect(retryAfter == 16, "10 s running + 5 s waiting + overheads, rounded up")

        let impatient = scheduler(queueSize: 5, queueTimeout: .seconds(20))
        _ = admit(cpu(30), to: impatient)
        clock.advance(by: .seconds(5))
        guard case .refuse(.tooManyRequests(let tooLong, let retry)) = admit(cpu(1), to: impatient).admission else {
            Issue.record("expected 429: 25.5 s left is longer than the 20 s timeout")
            return
        }
        #expect(tooLong.contains("--capture-queue-timeout"))
        #expect(retry == 6)
        clock.advance(by: .seconds(10))
        guard case .wait = admit(cpu(1), to: impatient).admission else { Issue.record("15.5 s left now fits"); return }
    }

    @Test("each user may hold only so many captures at once")
    func perUser() {
        let scheduler = scheduler(perUser: 2)
        #expect(scheduler.admitUser("alice") == nil)
        #expect(scheduler.admitUser("alice") == nil)
        #expect(scheduler.admitUser("bob") == nil)
        guard case .tooManyRequests(let reason, _) = scheduler.admitUser("alice") else { Issue.record("expected 429"); return }
        #expect(reason.contains("--max-captures-per-user=2"))
        scheduler.userFinished("alice")
        #expect(scheduler.admitUser("alice") == nil)
    }

    @Test("captures running, queued and joined are published by kind, at 0 before the first capture")
    func metrics() {
        let metrics = ProxyMetrics()
        let scheduler = scheduler(metrics: metrics)
        func exported() -> String { String(decoding: metrics.exposition(), as: UTF8.self) }
        #expect(exported().contains(#"pprof_rbac_proxy_captures_running{kind="trace"} 0"#))
        #expect(exported().contains(#"pprof_rbac_proxy_captures_joined_total{kind="cpu"} 0"#))

        let running = admit(cpu(3), to: scheduler).id
        _ = admit(cpu(3), to: scheduler)
        let waiting = admit(cpu(5), to: scheduler).id
        #expect(exported().contains(#"pprof_rbac_proxy_captures_running{kind="cpu"} 1"#))
        #expect(exported().contains(#"pprof_rbac_proxy_captures_queued{kind="cpu"} 1"#))
        #expect(exported().contains(#"pprof_rbac_proxy_captures_joined_total{kind="cpu"} 1"#))

        #expect(scheduler.abandonWait(waiting))
        #expect(exported().contains(#"pprof_rbac_proxy_captures_queued{kind="cpu"} 0"#))
        scheduler.finished(running)
        #expect(exported().contains(#"pprof_rbac_proxy_captures_running{kind="cpu"} 0"#))
    }
}
