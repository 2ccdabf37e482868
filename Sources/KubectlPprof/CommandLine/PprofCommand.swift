import ArgumentParser

/// `kubectl pprof`'s command line: every flag, its help, and the usage checks. Parsing only; the
/// run is `PprofPlugin`'s.
package struct PprofCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "kubectl pprof",
        abstract: "Fetch a Go pprof profile through pprof-rbac-proxy, as yourself, and open it.",
        usage: "kubectl pprof PROFILE [TARGET | -l SELECTOR | --url URL] [flags]",
        discussion: """
            PROFILE is one of cpu, heap, allocs, goroutine, block, mutex, threadcreate, trace. \
            TARGET is pod/NAME or deploy/NAME (deployment/NAME), or pods chosen with -l SELECTOR: \
            the first Running, Ready pod by name, or every one with --all. The plugin \
            port-forwards to the proxy's port (the container port named pprof-https, else 8443) \
            with kubectl, or connects to --url directly.

            You are who your kubeconfig says: a token, a tokenFile, an exec credential plugin, or \
            a client certificate (which the proxy accepts when started with --client-ca-file). \
            With --token-from-serviceaccount NS/NAME the plugin asks the API for a 10-minute token \
            of that ServiceAccount instead. Tokens never appear in output, arguments or files.

            While a capture runs, a line on standard error shows its time, its bytes, and whether \
            the proxy has it queued behind another capture or joined to an identical one. The \
            saved file's name goes to standard output.

            Examples:
              kubectl pprof cpu deploy/controller-manager -n example-system --open
              kubectl pprof heap pod/controller-manager-5d9c7b-abcde --cacert ca.crt
              kubectl pprof goroutine -l app=controller-manager --all --debug 2
              kubectl pprof cpu deploy/controller-manager --seconds 10 -o before.pb.gz
              kubectl pprof cpu deploy/controller-manager --open --diff-base before.pb.gz
              kubectl pprof trace --url https://127.0.0.1:8443 --seconds 5
              kubectl pprof cpu deploy/controller-manager --wait \\
                  --token-from-serviceaccount example-system/pprof-debugger

            Exit status: 0 saved, 1 failed (refused, unreachable, no pod), 2 usage error.
            """
    )

    @Argument(help: ArgumentHelp("The profile.", valueName: "PROFILE"))
    var profile: ProfileKind

    @Argument(help: ArgumentHelp("pod/NAME or deploy/NAME (deployment/NAME).", valueName: "TARGET"))
    var target: String?

    // Where

    @Option(name: [.customShort("l"), .long], help: "Pick pods by label selector (app=controller-manager).")
    var selector: String?

    @Option(name: [.customShort("n"), .long], help: "The namespace (default: the context's, else default).")
    var namespace: String?

    @Flag(help: "Fetch from every Running, Ready pod of the target at once, into files side by side.")
    var all = false

    @Option(help: "The proxy's port on the pod: a number or a container port name (default: pprof-https, else 8443).")
    var port: String?

    @Option(help: ArgumentHelp("Connect to the proxy at this URL instead of port-forwarding (no TARGET).", valueName: "https://HOST:PORT"))
    var url: String?

    // Who

    @Option(help: "The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context (default: current-context).")
    var context: String?

    @Option(help: ArgumentHelp("Send a short-lived token of this ServiceAccount (TokenRequest) instead of your own credentials.", valueName: "NS/NAME"))
    var tokenFromServiceaccount: String?

    @Option(help: ArgumentHelp("The audience of that token, when the proxy runs with --auth-token-audiences.", valueName: "AUDIENCE"))
    var tokenAudience: [String] = []

    // Trust

    @Option(help: ArgumentHelp("The CA that signed the proxy's serving certificate.", valueName: "FILE"))
    var cacert: String?

    @Option(help: "The name the proxy's certificate must carry (default: the DNS name of the Service in front of the pod, else the URL's host or localhost).")
    var tlsServerName: String?

    @Flag(help: "Do not verify the proxy's certificate (warns; anyone in the path could read the profile).")
    var insecureSkipTlsVerify = false

    // What

    @Option(help: "Capture length for cpu and trace (pprof's defaults: 30 and 1); a delta profile for the others.")
    var seconds: Int?

    @Flag(help: "Run a garbage collection before taking the heap profile (gc=1).")
    var gc = false

    @Option(help: "pprof's debug=N: 1 or 2 give text (goroutine stacks with 2).")
    var debug: Int?

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The file to write (default: POD-PROFILE-YYYYMMDDTHHMMSS.pb.gz, .out for trace).", valueName: "FILE"))
    var output: String?

    @Flag(help: "When the proxy's capture queue is full (429), wait for Retry-After and try again.")
    var wait = false

    // Looking

    @Flag(help: "Open the profile with go tool pprof -http and print the flame graph's address.")
    var open = false

    @Option(help: ArgumentHelp("A base profile to compare with (go tool pprof -diff_base).", valueName: "FILE"))
    var diffBase: String?

    package init() {}

    package func validate() throws {
        if url != nil && (target != nil || selector != nil) {
            throw ValidationError("--url connects to one proxy directly: give no TARGET and no -l")
        }
        if url == nil && target == nil && selector == nil {
            throw ValidationError("name a TARGET (pod/NAME, deploy/NAME), a -l SELECTOR or a --url")
        }
        if target != nil && selector != nil {
            throw ValidationError("give a TARGET or -l, not both")
        }
        if let target, TargetReference(target) == nil {
            throw ValidationError("TARGET \"\(target)\" is not pod/NAME or deploy/NAME")
        }
        if let url, !(url.hasPrefix("https://") && url.count > 8) {
            throw ValidationError("--url must be https://HOST:PORT (the proxy only speaks TLS)")
        }
        if let seconds, seconds <= 0 {
            throw ValidationError("--seconds must be above 0")
        }
        if let debug, debug < 0 {
            throw ValidationError("--debug must be 0 or more")
        }
        if all && output != nil {
            throw ValidationError("--all writes one file per pod: give no -o")
        }
        if all && url != nil {
            throw ValidationError("--all needs a TARGET or -l (--url is one proxy)")
        }
        if open && all {
            throw ValidationError("--open opens one profile: give no --all")
        }
        if let account = tokenFromServiceaccount, ServiceAccountReference(account) == nil {
            throw ValidationError("--token-from-serviceaccount must be NAMESPACE/NAME")
        }
        if !tokenAudience.isEmpty && tokenFromServiceaccount == nil {
            throw ValidationError("--token-audience goes with --token-from-serviceaccount")
        }
        if insecureSkipTlsVerify && cacert != nil {
            throw ValidationError("give --cacert or --insecure-skip-tls-verify, not both")
        }
    }

    /// The parsed and checked command line as plain values.
    package var options: PluginOptions {
        let where_: PluginOptions.Destination =
            if let url { .url(url) }
            else if let target, let reference = TargetReference(target) { .target(reference) }
            else { .selector(selector ?? "") }
        var query: [(String, String)] = []
        if let seconds = seconds ?? profile.defaultSeconds { query.append(("seconds", String(seconds))) }
        if gc { query.append(("gc", "1")) }
        if let debug { query.append(("debug", String(debug))) }
        return PluginOptions(
            profile: profile, destination: where_, namespace: namespace, all: all, port: port,
            kubeconfig: kubeconfig, context: context,
            tokenFromServiceAccount: tokenFromServiceaccount.flatMap(ServiceAccountReference.init), tokenAudiences: tokenAudience,
            caCertificate: cacert, tlsServerName: tlsServerName, insecureSkipTLSVerify: insecureSkipTlsVerify,
            query: query, seconds: seconds ?? profile.defaultSeconds, debug: debug, output: output, waitWhenBusy: wait,
            open: open, diffBase: diffBase
        )
    }
}
