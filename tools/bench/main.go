// Command bench measures pprof-rbac-proxy against the upstream itself and against nginx, on this
// machine, in one run, with the same requests and the same clients:
//
//	direct  the Go net/http/pprof upstream (tools/pprof-server) over plain HTTP: the limit;
//	proxy   the proxy's release binary over TLS with a bearer token, in Kubernetes mode against
//	        tools/fake-apiserver (real TokenReview and SubjectAccessReview calls, then cached);
//	nginx   Debian's nginx as a TLS reverse proxy (HTTP/2 on) with a static bearer-token check
//	        and a keep-alive upstream.
//
// Figures: small responses over HTTP/1.1 (wrk) and HTTP/2 (h2load); one large stream (curl) with
// the peak RSS during it; idle RSS and the time from exec to accepting connections; the API calls
// 10,000 requests with one token cost; many concurrent paced streams (a Go client). It prints a
// markdown table on stdout and writes the whole run as JSON. scripts/bench builds everything and
// runs it; see the README's Benchmarks section.
package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"pprof-rbac-proxy/tools/internal/harness"
)

type config struct {
	proxyBin       string
	toolsDir       string
	repoDir        string
	workDir        string
	jsonPath       string
	nginxBin       string
	nginxBuffer    string
	figures        map[string]bool
	targets        map[string]bool
	quick          bool
	duration       time.Duration
	warmup         time.Duration
	connections    int
	threads        int
	streamBytes    int64
	streams        int
	streamSize     int64
	streamDuration time.Duration
	apiRequests    int
	apiWorkers     int
	starts         int
}

var allFigures = []string{"startup", "api", "small", "h2", "stream", "streams"}

func parseFlags() config {
	var cfg config
	var figures, targets string
	flag.StringVar(&cfg.proxyBin, "proxy", ".build-release/release/pprof-rbac-proxy", "the proxy's release binary")
	flag.StringVar(&cfg.toolsDir, "tools", ".build/bench", "directory holding the built pprof-server and fake-apiserver")
	flag.StringVar(&cfg.repoDir, "repo", ".", "the repository (for certs/make-ca and certs/make-serving-cert)")
	flag.StringVar(&cfg.workDir, "work", ".build/bench/work", "scratch directory: certificates, configs, every process's log (emptied at start, kept after)")
	flag.StringVar(&cfg.jsonPath, "json", ".build/bench/results.json", "where the JSON results go")
	flag.StringVar(&cfg.nginxBin, "nginx", "", "nginx binary (default: nginx on PATH, else /usr/sbin/nginx)")
	flag.StringVar(&cfg.nginxBuffer, "nginx-buffer", "", "nginx's proxy_buffer_size (the piece size it relays an unbuffered response in); empty: nginx's default, one page")
	flag.StringVar(&figures, "figures", strings.Join(allFigures, ","), "figures to run: "+strings.Join(allFigures, ","))
	flag.StringVar(&targets, "targets", strings.Join(targetNames, ","), "targets to measure: "+strings.Join(targetNames, ","))
	flag.BoolVar(&cfg.quick, "quick", false, "a short smoke run: 3 s load, 256 MiB stream, 200 streams of 5 s, 3 starts (explicit flags still win)")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured duration of each wrk and h2load run")
	flag.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "uncounted load before each wrk and h2load run")
	flag.IntVar(&cfg.connections, "connections", 32, "wrk and h2load connections")
	flag.IntVar(&cfg.threads, "threads", 2, "wrk and h2load threads")
	flag.Int64Var(&cfg.streamBytes, "stream-bytes", 1<<30, "size of the single large stream")
	flag.IntVar(&cfg.streams, "streams", 1000, "concurrent paced streams")
	flag.Int64Var(&cfg.streamSize, "stream-size", 1<<20, "bytes of each paced stream")
	flag.DurationVar(&cfg.streamDuration, "stream-duration", 10*time.Second, "how long each paced stream lasts")
	flag.IntVar(&cfg.apiRequests, "api-requests", 10000, "requests with one token for the API-calls figure")
	flag.IntVar(&cfg.apiWorkers, "api-workers", 8, "concurrent keep-alive clients for the API-calls figure")
	flag.IntVar(&cfg.starts, "starts", 5, "fresh starts for the startup figures (the median is reported)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: bench [flags]  (normally through scripts/bench)\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if cfg.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := map[string]func(){
			"duration":        func() { cfg.duration = 3 * time.Second },
			"warmup":          func() { cfg.warmup = time.Second },
			"stream-bytes":    func() { cfg.streamBytes = 256 << 20 },
			"streams":         func() { cfg.streams = 200 },
			"stream-duration": func() { cfg.streamDuration = 5 * time.Second },
			"starts":          func() { cfg.starts = 3 },
		}
		for name, apply := range quick {
			if !set[name] {
				apply()
			}
		}
	}
	// Absolute: the paths end up in kubeconfigs and nginx configurations read from elsewhere.
	cfg.workDir = absolute(cfg.workDir)
	cfg.figures = parseList(figures, allFigures, "-figures")
	cfg.targets = parseList(targets, targetNames, "-targets")
	return cfg
}

func parseList(value string, allowed []string, name string) map[string]bool {
	chosen := map[string]bool{}
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		ok := false
		for _, known := range allowed {
			ok = ok || item == known
		}
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: %s: unknown %q (known: %s)\n", name, item, strings.Join(allowed, ","))
			os.Exit(2)
		}
		chosen[item] = true
	}
	return chosen
}

func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// bench holds the run's shared state.
type bench struct {
	cfg    config
	report *Report

	certs  string // ca.crt, tls.crt, tls.key
	caFile string
	ca     *x509.CertPool
	token  string // the reader's bearer token (proxy and nginx)
	caller string // the proxy's own token for the fake API server
	users  string
	rules  string

	upstream     *harness.Proc
	upstreamAddr string
	h2cAddr      string // a second upstream speaking h2c, for direct HTTP/2 (started on demand)
	apiServer    *harness.Proc
	kubeconfig   string

	proxy       *harness.Proc
	proxyAddr   string
	goRelay     *harness.Proc
	goRelayAddr string
	nginx       *harness.Proc
	nginxAddr   string
	nginxWhy    string // why nginx is not measured, if it is not
}

func main() {
	cfg := parseFlags()
	b := &bench{cfg: cfg, report: newReport()}
	b.report.Started = time.Now()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		received := <-signals
		logf("%v: stopping every process this run started", received)
		harness.StopAll()
		os.Exit(130)
	}()

	err := b.run()
	harness.StopAll()
	b.report.Finished = time.Now()
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	fmt.Print(b.report.markdown())
	if err := harness.WriteJSON(cfg.jsonPath, b.report); err != nil {
		logf("writing %s: %v", cfg.jsonPath, err)
		os.Exit(1)
	}
	fmt.Printf("\nJSON: %s\n", cfg.jsonPath)
}

func (b *bench) want(figure string) bool { return b.cfg.figures[figure] }

func (b *bench) run() error {
	b.report.Machine = describeMachine(b.cfg)
	b.recordSettings()
	if err := b.prepare(); err != nil {
		return err
	}
	if err := b.startShared(); err != nil {
		return err
	}
	b.findNginx()
	if b.want("startup") {
		b.figureStartup()
	}
	if b.want("api") {
		b.figureAPI()
	}
	if b.want("small") || b.want("h2") || b.want("stream") || b.want("streams") {
		if err := b.startLongRunning(); err != nil {
			return err
		}
	}
	if b.want("small") {
		b.figureSmall()
	}
	if b.want("h2") {
		b.figureH2()
	}
	if b.want("stream") {
		b.figureStream()
	}
	if b.want("streams") {
		b.figureStreams()
	}
	return nil
}

func (b *bench) recordSettings() {
	c := b.cfg
	s := b.report.Settings
	s["quick"] = c.quick
	s["durationSeconds"] = c.duration.Seconds()
	s["warmupSeconds"] = c.warmup.Seconds()
	s["connections"] = c.connections
	s["threads"] = c.threads
	s["streamBytes"] = c.streamBytes
	s["streams"] = c.streams
	s["streamSize"] = c.streamSize
	s["streamDurationSeconds"] = c.streamDuration.Seconds()
	s["apiRequests"] = c.apiRequests
	s["apiWorkers"] = c.apiWorkers
	s["starts"] = c.starts
	s["nginxProxyBufferSize"] = c.nginxBuffer
	var figures, targets []string
	for _, f := range allFigures {
		if c.figures[f] {
			figures = append(figures, f)
		}
	}
	for _, t := range targetNames {
		if c.targets[t] {
			targets = append(targets, t)
		}
	}
	s["figures"] = figures
	s["targets"] = targets
	mode := "full run"
	if c.quick {
		mode = "quick run (-quick: short durations, not for publishing)"
	}
	s["summary"] = fmt.Sprintf("Settings (%s): wrk/h2load %d threads, %d connections, %d s measured after %d s warm-up; "+
		"one %s stream with curl --http1.1; %d concurrent streams of %s paced over %v; %s requests with one token from %d keep-alive clients; "+
		"startup figures are the median of %d fresh starts; nginx relays unbuffered responses in proxy_buffer_size pieces (%s). Every process logs to a file (the proxy's access log, nginx's access_log).",
		mode, c.threads, c.connections, wholeSeconds(c.duration), wholeSeconds(c.warmup),
		formatBytes(c.streamBytes), c.streams, formatBytes(c.streamSize), c.streamDuration,
		thousands(float64(c.apiRequests)), c.apiWorkers, c.starts, nginxBufferText(c.nginxBuffer))
}

func nginxBufferText(size string) string {
	if size == "" {
		return "nginx's default, one 4 KiB page; -nginx-buffer changes it"
	}
	return size + ", from -nginx-buffer"
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// prepare checks the binaries and makes the scratch directory, certificates, tokens and files.
func (b *bench) prepare() error {
	var err error
	if b.certs, b.ca, err = b.setup().Prepare("scripts/bench", b.cfg.repoDir, b.cfg.proxyBin, "pprof-rbac-proxy bench CA", "bench"); err != nil {
		return err
	}
	b.caFile = filepath.Join(b.certs, "ca.crt")
	b.token = harness.RandomToken("bench-reader-")
	b.caller = harness.RandomToken("bench-proxy-")
	b.users, b.rules, err = harness.WriteReader(b.cfg.workDir, b.token, "bench", "pprof-readers")
	return err
}

func (b *bench) setup() harness.Setup {
	return harness.Setup{ToolsDir: b.cfg.toolsDir, WorkDir: b.cfg.workDir}
}

func (b *bench) logPath(name string) string { return b.setup().LogPath(name) }

// startUpstream starts tools/pprof-server without recording (extra: e.g. -h2c).
func (b *bench) startUpstream(name, addr string, extra ...string) (*harness.Proc, string, error) {
	return b.setup().StartUpstream(name, addr, extra...)
}

// startAPIServer starts a fake API server with its certificates in dir and writes a kubeconfig
// for the proxy beside them.
func (b *bench) startAPIServer(name, dir string) (*harness.Proc, string, string, error) {
	return b.setup().StartAPIServer(name, dir, b.caller, b.users, b.rules)
}

func (b *bench) startShared() error {
	var err error
	if b.upstream, b.upstreamAddr, err = b.startUpstream("upstream", "127.0.0.1:0"); err != nil {
		return err
	}
	logf("upstream (pprof-server -record=false) on %s", b.upstreamAddr)
	if b.apiServer, _, b.kubeconfig, err = b.startAPIServer("apiserver", filepath.Join(b.cfg.workDir, "apiserver")); err != nil {
		return err
	}
	return nil
}

// proxyArgv is the proxy's command line for a listen address and a kubeconfig.
func (b *bench) proxyArgv(listen, kubeconfig string) []string {
	return harness.ProxyArgv(b.cfg.proxyBin, listen, "http://"+b.upstreamAddr+"/", kubeconfig, b.certs)
}

// startGoRelay starts tools/go-relay with the proxy's serving certificate and the reader's token.
func (b *bench) startGoRelay(name string) (*harness.Proc, string, error) {
	return harness.StartListening(name, b.logPath(name), filepath.Join(b.cfg.toolsDir, "go-relay"),
		"-listen", "127.0.0.1:0", "-upstream", "http://"+b.upstreamAddr,
		"-cert", filepath.Join(b.certs, "tls.crt"), "-key", filepath.Join(b.certs, "tls.key"), "-token", b.token)
}

// startProxy starts the proxy on a free port and returns it once it logged its address.
func (b *bench) startProxy(name, kubeconfig string) (*harness.Proc, string, error) {
	return harness.StartListening(name, b.logPath(name), b.proxyArgv("127.0.0.1:0", kubeconfig)...)
}
