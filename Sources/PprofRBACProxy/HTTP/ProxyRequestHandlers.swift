import Logging
import NIOCore
import X509

/// What serves one request on the proxy listener: access log → gate → CPU profile slices (when
/// on) → capture scheduling → forwarder.
struct ProxyRequestHandlers: Sendable {
    let gate: Gate
    /// One CPU profile and one trace at a time, and the per-user capture limit.
    let captureScheduler: CaptureScheduler
    /// Serves CPU profiles from slices (`--cpu-profile-slices`); nil leaves them to the scheduler.
    let cpuProfileSlicer: CPUProfileSlicerHandle?
    let upstream: any UpstreamConnector
    let upstreamTarget: UpstreamTarget
    let identityHeaders: IdentityHeaders
    /// Told about every finished exchange (access log, audit log, metrics).
    let observers: [any ExchangeObserver]
    let logger: Logger

    func handlers(isHTTP2: Bool, clientCertificates: [Certificate]) -> [any ChannelHandler] {
        var handlers: [any ChannelHandler] = [
            ExchangeRecorder(observers: observers),
            GateHandler(gate: gate, isHTTP2: isHTTP2, clientCertificates: clientCertificates),
        ]
        if let cpuProfileSlicer {
            handlers.append(SlicedProfileHandler(slicer: cpuProfileSlicer, scheduler: captureScheduler, isHTTP2: isHTTP2))
        }
        handlers.append(CaptureHandler(scheduler: captureScheduler, isHTTP2: isHTTP2, logger: logger))
        handlers.append(
            ForwardingHandler(upstream: upstream, target: upstreamTarget, identityHeaders: identityHeaders, isHTTP2: isHTTP2)
        )
        return handlers
    }
}
