// Command soak runs pprof-rbac-proxy under Parca-like load for a long while and checks that it
// neither fails a request nor grows: several targets, each a tools/pprof-server with a proxy of
// its own in front of it (the sidecar model), every proxy in Kubernetes mode against one shared
// tools/fake-apiserver with the auth caches at their defaults (so they expire and the API is asked
// again during the run). Per target, one keep-alive client scrapes the five profile types Parca
// scrapes by default every -interval; every response must be 200 with a non-empty gzip body.
// With -person-every, a person (a user of their own, on a connection of their own) also takes a
// long CPU profile from every target now and then. Every -sample it records each proxy's VmRSS
// and open descriptors; between the warm-up's end and the load's end it measures the CPU time of
// every upstream and proxy, and at the end it reads each proxy's CPU profile slice metrics. It
// prints a markdown table and a verdict (PASS: no errors, RSS and descriptors flat after the
// warm-up), and writes the run as JSON. scripts/soak builds everything and runs it; see
// tools/README.md.
package main

import (
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"pprof-rbac-proxy/tools/internal/harness"
)

// config is the command line.
type config struct {
	proxyBin      string
	toolsDir      string
	repoDir       string
	workDir       string
	jsonPath      string
	targets       int
	interval      time.Duration
	cpuSeconds    int
	http1         bool
	duration      time.Duration
	warmup        time.Duration
	sample        time.Duration
	timeout       time.Duration
	personEvery   time.Duration // 0: no person
	personSeconds int
	personTimeout time.Duration // personSeconds + timeoutSlack
	proxyFlags    flagList
	checkOnly     bool
}

// flagList is a repeatable string flag.
type flagList []string

// String is the flag's value as the help shows it.
func (l *flagList) String() string { return strings.Join(*l, " ") }

// Set appends one occurrence.
func (l *flagList) Set(value string) error {
	if !strings.HasPrefix(value, "-") {
		return fmt.Errorf("%q is not a flag (give it as -proxy-flag=--name=value)", value)
	}
	*l = append(*l, value)
	return nil
}

// timeoutSlack is what a request's default timeout adds to its profile's seconds.
const timeoutSlack = 20 * time.Second

// minAfterWarmup is how many samples the flatness rule needs after the warm-up (two per third).
const minAfterWarmup = 6

// usageError says what is wrong with the command line and exits 2.
func usageError(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
	os.Exit(2)
}

// exitHelpChecked is the exit status of -check-flags -h: the help was printed, nothing is to run.
const exitHelpChecked = 3

// parseFlags reads and checks the command line (exiting 2 if it is wrong, 0 after -h, and 0 or 3
// after -check-flags) and fills in the defaults that depend on other flags.
func parseFlags() config {
	var cfg config
	flag.CommandLine.Init("soak", flag.ContinueOnError)
	flag.BoolVar(&cfg.checkOnly, "check-flags", false, "only check the flags and exit (0: fine, 2: not; scripts/soak does this before building)")
	flag.StringVar(&cfg.proxyBin, "proxy", ".build-release/release/pprof-rbac-proxy", "the proxy's release binary (scripts/soak passes what scripts/release-build printed)")
	flag.StringVar(&cfg.toolsDir, "tools", ".build/soak", "directory holding the built pprof-server and fake-apiserver")
	flag.StringVar(&cfg.repoDir, "repo", ".", "the repository (for certs/make-ca and certs/make-serving-cert)")
	flag.StringVar(&cfg.workDir, "work", ".build/soak/work", "scratch directory: certificates, configs, every process's log (emptied at start, kept after)")
	flag.StringVar(&cfg.jsonPath, "json", ".build/soak/results.json", "where the JSON results go (empty: none)")
	flag.IntVar(&cfg.targets, "targets", 4, "targets: one pprof-server with its own proxy each")
	flag.DurationVar(&cfg.interval, "interval", 10*time.Second, "scrape interval per target and profile type (Parca's default)")
	flag.IntVar(&cfg.cpuSeconds, "cpu-seconds", 10, "seconds of each CPU profile (/debug/pprof/profile?seconds=N)")
	flag.BoolVar(&cfg.http1, "http1", false, "force HTTP/1.1 (default: HTTP/2, negotiated by ALPN as Go's default transport and Parca do)")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Minute, "how long the load runs")
	flag.DurationVar(&cfg.warmup, "warmup", time.Minute, "the first part of the run, left out of the flatness check (errors still count)")
	flag.DurationVar(&cfg.sample, "sample", 10*time.Second, "how often RSS, descriptors, requests and errors are recorded")
	flag.DurationVar(&cfg.timeout, "timeout", 0, "timeout of one scrape, from its start to the last byte of its body (0: cpu-seconds + 20s; Parca-like: -interval 15s -timeout 13s)")
	flag.DurationVar(&cfg.personEvery, "person-every", 0, "a person also takes a CPU profile from every target this often, on a new HTTP/1.1 connection each time as go tool pprof does, as a user of their own (0: no person)")
	flag.IntVar(&cfg.personSeconds, "person-seconds", 30, "seconds of the person's CPU profiles (their timeout: these + 20s)")
	flag.Var(&cfg.proxyFlags, "proxy-flag", "an extra flag for every proxy, repeatable, e.g. -proxy-flag=--cpu-profile-slices=false (the comparison run)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: soak [flags]  (normally through scripts/soak)\n")
		flag.PrintDefaults()
	}
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			if cfg.checkOnly {
				os.Exit(exitHelpChecked)
			}
			os.Exit(0)
		}
		os.Exit(2) // the flag package has said what is wrong
	}
	if flag.NArg() > 0 {
		usageError("unexpected argument %q", flag.Arg(0))
	}
	switch {
	case cfg.targets < 1:
		usageError("-targets must be at least 1")
	case cfg.interval <= 0:
		usageError("-interval must be positive")
	case cfg.cpuSeconds < 1:
		usageError("-cpu-seconds must be at least 1")
	case cfg.sample <= 0:
		usageError("-sample must be positive")
	case cfg.warmup < 0:
		usageError("-warmup must not be negative")
	case cfg.timeout < 0:
		usageError("-timeout must not be negative")
	case cfg.timeout != 0 && cfg.timeout <= time.Duration(cfg.cpuSeconds)*time.Second:
		usageError("-timeout %v is not longer than the %d s CPU profile: every CPU scrape would time out", cfg.timeout, cfg.cpuSeconds)
	case cfg.personEvery < 0:
		usageError("-person-every must not be negative")
	case cfg.personSeconds < 1:
		usageError("-person-seconds must be at least 1")
	}
	if samplesAfterWarmup(cfg) < minAfterWarmup {
		usageError("-duration %v with -warmup %v and -sample %v leaves fewer than %d samples after the warm-up, which the flatness check needs",
			cfg.duration, cfg.warmup, cfg.sample, minAfterWarmup)
	}
	if cfg.timeout == 0 {
		cfg.timeout = time.Duration(cfg.cpuSeconds)*time.Second + timeoutSlack
	}
	cfg.personTimeout = time.Duration(cfg.personSeconds)*time.Second + timeoutSlack
	if cfg.checkOnly {
		os.Exit(0)
	}
	// Absolute: the paths end up in kubeconfigs read by the proxies.
	cfg.workDir = absolute(cfg.workDir)
	return cfg
}

// samplesAfterWarmup counts the samples at 0, sample, 2×sample ... ≤ duration that are not
// before the warm-up's end.
func samplesAfterWarmup(cfg config) int {
	if cfg.duration < cfg.warmup {
		return 0
	}
	firstAfter := (cfg.warmup + cfg.sample - 1) / cfg.sample
	return int(cfg.duration/cfg.sample-firstAfter) + 1
}

// absolute is path made absolute (unchanged if that fails).
func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// interrupted is set on Ctrl-C: the scrapes then failing as the processes go are not reported.
var interrupted atomic.Bool

// logf prints one progress line on stderr.
func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
}

// target is one pod: a pprof-server and the proxy in front of it.
type target struct {
	name        string // proxy-1 ...
	upstream    *harness.Proc
	proxy       *harness.Proc
	proxyAddr   string
	metricsAddr string // the proxy's /metrics listener (TLS, no authentication)
}

// soak holds the run's shared state.
type soak struct {
	cfg         config
	setup       harness.Setup
	certs       string
	ca          *x509.CertPool
	token       string // the scraper's bearer token
	personToken string // the person's
	caller      string // the proxies' own token for the fake API server

	apiServer *harness.Proc
	apiAddr   string
	apiCA     string
	targets   []*target
}

// main runs the soak, prints the report, writes the JSON and exits 0 on PASS, 1 on FAIL.
func main() {
	cfg := parseFlags()
	s := &soak{cfg: cfg, setup: harness.Setup{ToolsDir: cfg.toolsDir, WorkDir: cfg.workDir}}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		received := <-signals
		interrupted.Store(true)
		logf("%v: stopping every process this run started (logs stay in %s)", received, cfg.workDir)
		harness.StopAll()
		os.Exit(130)
	}()

	report, err := s.run()
	harness.StopAll()
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	fmt.Print(report.markdown())
	if cfg.jsonPath != "" {
		if err := harness.WriteJSON(cfg.jsonPath, report); err != nil {
			logf("writing %s: %v", cfg.jsonPath, err)
			os.Exit(1)
		}
		fmt.Printf("\nJSON: %s; logs: %s\n", cfg.jsonPath, cfg.workDir)
	}
	if !report.Passed {
		os.Exit(1)
	}
}

// run starts everything, checks it, runs the load and judges it.
func (s *soak) run() (*Report, error) {
	if err := s.prepare(); err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	if err := s.preflight(); err != nil {
		return nil, err
	}
	report := s.newReport()
	s.load(report)
	report.judge()
	return report, nil
}

// prepare checks the binaries and makes the scratch directory, certificates and tokens.
func (s *soak) prepare() error {
	var err error
	if s.certs, s.ca, err = s.setup.Prepare("scripts/soak", s.cfg.repoDir, s.cfg.proxyBin, "pprof-rbac-proxy soak CA", "soak"); err != nil {
		return err
	}
	s.token = harness.RandomToken("soak-reader-")
	s.personToken = harness.RandomToken("soak-person-")
	s.caller = harness.RandomToken("soak-proxy-")
	return nil
}

// metricsLine is the proxy's log line saying where its /metrics listener is.
var metricsLine = regexp.MustCompile(`metrics listener serving \S+ on (\S+)`)

// start starts the shared fake API server, then each target's pprof-server and proxy (with a
// /metrics listener of its own, then the -proxy-flag flags).
func (s *soak) start() error {
	users, rules, err := writeReaders(s.cfg.workDir, map[string]string{s.token: "parca", s.personToken: "person"}, "pprof-readers")
	if err != nil {
		return err
	}
	dir := filepath.Join(s.cfg.workDir, "apiserver")
	var kubeconfig string
	if s.apiServer, s.apiAddr, kubeconfig, err = s.setup.StartAPIServer("apiserver", dir, s.caller, users, rules); err != nil {
		return err
	}
	s.apiCA = filepath.Join(dir, "ca.crt")
	logf("fake API server on %s (log: %s)", s.apiAddr, s.apiServer.LogPath)
	for i := 1; i <= s.cfg.targets; i++ {
		t := &target{name: fmt.Sprintf("proxy-%d", i)}
		var upstreamAddr string
		if t.upstream, upstreamAddr, err = s.setup.StartUpstream(fmt.Sprintf("pprof-%d", i), "127.0.0.1:0", "-steady-load"); err != nil {
			return err
		}
		argv := harness.ProxyArgv(s.cfg.proxyBin, "127.0.0.1:0", "http://"+upstreamAddr+"/", kubeconfig, s.certs)
		argv = append(argv, "--metrics-bind-address", "127.0.0.1:0", "--metrics-insecure")
		argv = append(argv, s.cfg.proxyFlags...)
		if t.proxy, t.proxyAddr, err = harness.StartListening(t.name, s.setup.LogPath(t.name), argv...); err != nil {
			return err
		}
		if t.metricsAddr, err = t.proxy.WaitForLine(metricsLine, 30*time.Second); err != nil {
			return err
		}
		logf("%s: https://%s → pprof-server on %s, /metrics on %s (log: %s)", t.name, t.proxyAddr, upstreamAddr, t.metricsAddr, t.proxy.LogPath)
		s.targets = append(s.targets, t)
	}
	return nil
}

// writeReaders writes dir/users.json and dir/rules.json for tools/fake-apiserver: each token
// authenticates its user (uid "uid-USER") in group, and the group may GET /debug/pprof and
// /debug/pprof/* (harness.WriteReader for several users). It returns the two paths.
func writeReaders(dir string, users map[string]string, group string) (usersPath, rulesPath string, err error) {
	type user struct {
		Username  string   `json:"username"`
		UID       string   `json:"uid"`
		Groups    []string `json:"groups"`
		Audiences []string `json:"audiences"`
	}
	byToken := map[string]user{}
	for token, name := range users {
		byToken[token] = user{Username: name, UID: "uid-" + name, Groups: []string{group}, Audiences: []string{}}
	}
	usersPath, rulesPath = filepath.Join(dir, "users.json"), filepath.Join(dir, "rules.json")
	rules := []map[string]interface{}{{"group": group, "paths": []string{"/debug/pprof", "/debug/pprof/*"}, "verbs": []string{"get"}}}
	if err := writeFile(usersPath, byToken, 0o600); err != nil {
		return "", "", err
	}
	return usersPath, rulesPath, writeFile(rulesPath, rules, 0o644)
}

// writeFile writes value as JSON to path with the given permissions.
func writeFile(path string, value interface{}, perm os.FileMode) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), perm)
}

// preflight checks that every proxy answers 200 with the scraper's and the person's tokens and
// 401 without one.
func (s *soak) preflight() error {
	transport := newTransport(s.ca, !s.cfg.http1)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	for _, t := range s.targets {
		url := "https://" + t.proxyAddr + "/debug/pprof/cmdline"
		for _, check := range []struct {
			token string
			want  int
		}{{s.token, http.StatusOK}, {s.personToken, http.StatusOK}, {"", http.StatusUnauthorized}} {
			result := fetch(client, url, check.token)
			if result.err == nil && result.status != check.want {
				result.err = fmt.Errorf("status %d, want %d", result.status, check.want)
			}
			if result.err != nil {
				with := "with the token"
				if check.token == "" {
					with = "without a token"
				}
				return fmt.Errorf("%s does not answer as expected: GET %s %s: %v", t.name, url, with, result.err)
			}
		}
	}
	return nil
}

// versionLine finds the version in `pprof-rbac-proxy --version`'s output.
var versionLine = regexp.MustCompile(`pprof-rbac-proxy (\S+)`)

// proxyVersion is what the binary's --version says.
func proxyVersion(binary string) string {
	out, _ := exec.Command(binary, "--version").CombinedOutput()
	if m := versionLine.FindSubmatch(out); m != nil {
		return string(m[1])
	}
	return strings.TrimSpace(string(out))
}
