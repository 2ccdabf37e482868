import Foundation

/// One `kubectl pprof` run: who the caller is, which pods, how to reach each, the fetches side by
/// side with their progress, and the look at the result. Returns the exit status.
package struct PprofPlugin: Sendable {
    let options: PluginOptions
    /// Where lines for the person go (standard error).
    let progress: ProgressReporter
    /// Where saved file names go, one a line (standard output), for scripts.
    let printResult: @Sendable (String) -> Void

    package init(options: PluginOptions, progress: ProgressReporter, printResult: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.progress = progress
        self.printResult = printResult
    }

    package func run() async -> Int32 {
        do throws(PluginFailure) {
            try await runThrowing()
            return 0
        } catch {
            progress.finish()
            for line in error.lines { progress.print(line) }
            return error.exitStatus
        }
    }

    private func runThrowing() async throws(PluginFailure) {
        var caller = try await KubeconfigIdentity.load(options)
        if case .url(let url) = options.destination, options.tokenFromServiceAccount == nil {
            // Straight to the proxy: no API call at all.
            try await fetchAll([FetchPlan.direct(url, options: options)], caller: caller)
            return
        }
        let cluster = try ClusterClient(connection: caller.connection)
        defer { Task { await cluster.shutdown() } }
        if let account = options.tokenFromServiceAccount {
            try await caller.useServiceAccountToken(of: account, audiences: options.tokenAudiences, from: cluster)
        }
        let plans: [FetchPlan]
        if case .url(let url) = options.destination {
            plans = [FetchPlan.direct(url, options: options)]
        } else {
            let pods = try await PodResolver.resolve(
                options.destination, all: options.all, port: options.port, namespace: caller.namespace, cluster: cluster)
            let stamp = FetchPlan.timestamp(Date())
            plans = pods.map { FetchPlan.forPod($0, options: options, stamp: stamp) }
        }
        try await fetchAll(plans, caller: caller)
    }

    /// Fetches every plan at once; fails with the first failure after all have ended.
    private func fetchAll(_ plans: [FetchPlan], caller: KubeconfigIdentity) async throws(PluginFailure) {
        if options.insecureSkipTLSVerify {
            progress.print("warning: --insecure-skip-tls-verify: the proxy's certificate is not checked, so anyone in the path could read the profile and your token")
        }
        let results = await withTaskGroup(of: (Int, Result<String, PluginFailure>).self) { group in
            for (index, plan) in plans.enumerated() {
                group.addTask {
                    do throws(PluginFailure) {
                        return (index, .success(try await fetch(plan, caller: caller)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<String, PluginFailure>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        progress.finish()
        var firstFailure: PluginFailure?
        for result in results {
            switch result {
            case .success(let file): printResult(file)
            case .failure(let failure):
                if plans.count > 1 {
                    for line in failure.lines { progress.print(line) }
                }
                firstFailure = firstFailure ?? failure
            }
        }
        if let firstFailure {
            guard plans.count > 1 else { throw firstFailure }
            throw .someFetchesFailed(failed: results.filter { (try? $0.get()) == nil }.count, of: plans.count)
        }
        if options.open, case .success(let file)? = results.first {
            try await PprofViewer.open(file: file, diffBase: options.diffBase) { address in
                progress.print("Flame graph: \(address) (Ctrl-C to stop go tool pprof)")
            }
        } else if let diffBase = options.diffBase, case .success(let file)? = results.first {
            progress.print("Compare: go tool pprof -http=: -diff_base=\(diffBase) \(file)")
        }
    }

    /// One fetch: the port-forward if needed, then GETs until an answer that is not a 429 to wait out.
    private func fetch(_ plan: FetchPlan, caller: KubeconfigIdentity) async throws(PluginFailure) -> String {
        let identity = caller.identity
        var forward: PortForward?
        defer { forward?.stop() }
        var endpoint = plan.endpoint
        if let pod = plan.pod {
            let started = try await PortForward.start(
                kubeconfig: options.kubeconfig, context: options.context, namespace: caller.namespace, pod: pod.name, port: pod.port)
            forward = started
            endpoint.port = started.localPort
        }
        let label = "\(plan.label) \(options.profile.rawValue)"
        while true {
            let index = progress.add(FetchProgress(label: label, expectedSeconds: options.seconds))
            let started = ContinuousClock.now
            let answer: ProfileFetcher.Answer
            do throws(PluginFailure) {
                answer = try await ProfileFetcher.fetch(options.requestTarget, from: endpoint, as: identity, into: plan.partialFile) { event in
                    progress.report(event, for: index)
                }
            } catch {
                progress.done(index)
                try? FileManager.default.removeItem(atPath: plan.partialFile)
                throw error
            }
            progress.done(index)
            if answer.status == 200 {
                guard rename(plan.partialFile, plan.file) == 0 else {
                    throw .output("cannot rename \(plan.partialFile) to \(plan.file): \(String(cString: strerror(errno)))")
                }
                let took = ContinuousClock.now - started
                progress.print("\(plan.label): saved \(options.profile.rawValue) profile to \(plan.file) (\(FetchProgress.size(answer.bytes)) in \(Self.seconds(took)))")
                return plan.file
            }
            if answer.status == 429, options.waitWhenBusy {
                let wait = answer.headers["retry-after"].first.flatMap { Int($0) } ?? 5
                progress.print("\(plan.label): the proxy is busy (429); waiting \(wait) s as its Retry-After says, then trying again")
                try? await Task.sleep(for: .seconds(max(1, wait)))
                continue
            }
            throw RefusalAdvice.failure(for: answer, identity: identity, from: plan.label, namespace: caller.namespace)
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        let tenths = whole * 10 + attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
