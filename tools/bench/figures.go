package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"pprof-rbac-proxy/tools/internal/harness"
)

// target is one column: where requests go and whose memory counts.
type target struct {
	name string
	base string       // scheme://host:port
	pids func() []int // the processes whose memory is measured; nil for direct
}

func (b *bench) longTargets() []target {
	var targets []target
	if b.cfg.targets["direct"] {
		targets = append(targets, target{name: "direct", base: "http://" + b.upstreamAddr})
	}
	if b.proxy != nil {
		pid := b.proxy.PID()
		targets = append(targets, target{name: "proxy", base: "https://" + b.proxyAddr, pids: func() []int { return []int{pid} }})
	}
	if b.goRelay != nil {
		pid := b.goRelay.PID()
		targets = append(targets, target{name: "go", base: "https://" + b.goRelayAddr, pids: func() []int { return []int{pid} }})
	}
	if b.nginx != nil {
		master := b.nginx.PID()
		targets = append(targets, target{name: "nginx", base: "https://" + b.nginxAddr, pids: func() []int { return harness.ProcessTree(master) }})
	}
	return targets
}

// startLongRunning starts the proxy and nginx that the throughput figures share, and checks that
// each answers 200 with the token and 401 without.
func (b *bench) startLongRunning() error {
	if b.cfg.targets["proxy"] {
		p, addr, err := b.startProxy("proxy", b.kubeconfig)
		if err != nil {
			return err
		}
		b.proxy, b.proxyAddr = p, addr
		logf("proxy on %s (log: %s)", addr, p.LogPath)
	}
	if b.cfg.targets["go"] {
		p, addr, err := b.startGoRelay("go-relay")
		if err != nil {
			return err
		}
		b.goRelay, b.goRelayAddr = p, addr
		logf("go relay on %s (log: %s)", addr, p.LogPath)
	}
	if b.cfg.nginxBin != "" {
		port, err := harness.FreePort()
		if err == nil {
			var p *harness.Proc
			if p, _, err = b.startNginx("nginx", filepath.Join(b.cfg.workDir, "nginx"), port); err == nil {
				waitWorkers(p, 2)
				b.nginx, b.nginxAddr = p, fmt.Sprintf("127.0.0.1:%d", port)
				logf("nginx on %s (prefix: %s)", b.nginxAddr, filepath.Join(b.cfg.workDir, "nginx"))
			}
		}
		if err != nil {
			b.nginxWhy = "it did not start: " + strings.SplitN(err.Error(), "\n", 2)[0]
			b.report.fail("setup", "nginx", err)
			b.report.skip("the nginx column: %s", b.nginxWhy)
		}
	}
	client := &http.Client{Transport: newTransport(b.ca, true, 4), Timeout: 30 * time.Second}
	for _, t := range b.longTargets() {
		url := t.base + "/debug/pprof/cmdline"
		status, _, err := fetch(client, url, b.token)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("GET %s with the token: status %d, want 200", url, status)
		}
		if err == nil && t.name != "direct" {
			if status, _, err = fetch(client, url, ""); err == nil && status != http.StatusUnauthorized {
				err = fmt.Errorf("GET %s without a token: status %d, want 401", url, status)
			}
		}
		if err != nil {
			return fmt.Errorf("%s does not answer as expected: %v", t.name, err)
		}
	}
	return nil
}

func errorSuffix(errors int64) string {
	if errors == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s errors)", thousands(float64(errors)))
}

// figureStartup: exec → accepting connections, and idle RSS, over fresh starts.
func (b *bench) figureStartup() {
	n := b.cfg.starts
	ready := b.report.row("ready_ms", fmt.Sprintf("Exec → accepting TCP connections (median of %d starts)", n), "ms", "≤ 200 ms")
	idle := b.report.row("idle_rss_mib", "Idle RSS 1 s after accepting (PSS in brackets; nginx: master + workers)", "MiB", "≤ 12 MiB")
	work := b.cfg.workDir
	launchers := map[string]func(i, port int) (*harness.Proc, time.Duration, error){
		"direct": func(i, port int) (*harness.Proc, time.Duration, error) {
			name := fmt.Sprintf("startup-direct-%d", i)
			p, err := harness.Start(name, b.logPath(name), filepath.Join(b.cfg.toolsDir, "pprof-server"),
				"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-record=false")
			if err != nil {
				return nil, 0, err
			}
			d, err := p.WaitAccepting(fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second)
			return p, d, err
		},
		"proxy": func(i, port int) (*harness.Proc, time.Duration, error) {
			name := fmt.Sprintf("startup-proxy-%d", i)
			p, err := harness.Start(name, b.logPath(name), b.proxyArgv(fmt.Sprintf("127.0.0.1:%d", port), b.kubeconfig)...)
			if err != nil {
				return nil, 0, err
			}
			d, err := p.WaitAccepting(fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second)
			return p, d, err
		},
		"nginx": func(i, port int) (*harness.Proc, time.Duration, error) {
			name := fmt.Sprintf("startup-nginx-%d", i)
			return b.startNginx(name, filepath.Join(work, name), port)
		},
	}
	type startup struct {
		ReadyMs   []float64 `json:"readyMs"`
		RSSKiB    []int64   `json:"rssKiB"`
		PSSKiB    []int64   `json:"pssKiB"`
		Processes int       `json:"processes"`
	}
	for _, name := range targetNames {
		if !b.cfg.targets[name] || launchers[name] == nil || (name == "nginx" && b.cfg.nginxBin == "") {
			continue
		}
		logf("startup: %d fresh starts of %s", n, name)
		var result startup
		var failure error
		for i := 0; i < n && failure == nil; i++ {
			port, err := harness.FreePort()
			if err != nil {
				failure = err
				break
			}
			p, d, err := launchers[name](i, port)
			if err != nil {
				if p != nil {
					p.Stop()
				}
				failure = err
				break
			}
			time.Sleep(time.Second)
			pids := harness.ProcessTree(p.PID())
			result.ReadyMs = append(result.ReadyMs, float64(d)/float64(time.Millisecond))
			result.RSSKiB = append(result.RSSKiB, harness.SumKiB(pids, "VmRSS"))
			result.PSSKiB = append(result.PSSKiB, harness.SumPssKiB(pids))
			result.Processes = len(pids)
			p.Stop()
		}
		b.report.detail("startup", name, result)
		if failure != nil {
			b.report.fail("startup", name, failure)
			ready.text(name, "failed")
			idle.text(name, "failed")
			continue
		}
		readyMs := medianFloat(result.ReadyMs)
		rss, pss := medianInt(result.RSSKiB), medianInt(result.PSSKiB)
		ready.set(name, readyMs, formatMs(readyMs))
		idle.set(name, float64(rss)/1024, fmt.Sprintf("%s (%.1f)", formatMiB(rss), float64(pss)/1024))
	}
	ready.atMost(200)
	idle.atMost(12)
}

func medianFloat(values []float64) float64 {
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	return sorted[len(sorted)/2]
}

func medianInt(values []int64) int64 {
	sorted := append([]int64(nil), values...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return sorted[len(sorted)/2]
}

// figureAPI: how many TokenReviews and SubjectAccessReviews a fresh proxy makes for many
// requests with one token.
func (b *bench) figureAPI() {
	n := b.cfg.apiRequests
	row := b.report.row("api_calls", fmt.Sprintf("Kubernetes API calls for %s requests with one token", thousands(float64(n))), "calls", "= 2")
	defer func() {
		if _, ok := row.value("proxy"); ok {
			return
		}
		row.Verdict = "n/a (no proxy figure)"
	}()
	if !b.cfg.targets["proxy"] {
		return
	}
	logf("api: a fresh proxy and fake API server, %d requests with one token from %d clients", n, b.cfg.apiWorkers)
	dir := filepath.Join(b.cfg.workDir, "apiserver-calls")
	api, apiAddr, kubeconfig, err := b.startAPIServer("apiserver-calls", dir)
	if err != nil {
		b.report.fail("api", "proxy", err)
		return
	}
	defer api.Stop()
	proxy, addr, err := b.startProxy("proxy-calls", kubeconfig)
	if err != nil {
		b.report.fail("api", "proxy", err)
		return
	}
	defer proxy.Stop()
	result := manyRequests(b.ca, "https://"+addr+"/debug/pprof/cmdline", b.token, n, b.cfg.apiWorkers)
	calls, err := harness.APICalls(apiAddr, filepath.Join(dir, "ca.crt"), b.caller)
	details := map[string]interface{}{"requests": result, "calls": calls}
	b.report.detail("api", "proxy", details)
	if err != nil {
		b.report.fail("api", "proxy", err)
		return
	}
	total := calls["tokenreviews"] + calls["subjectaccessreviews"]
	row.set("proxy", float64(total), fmt.Sprintf("%d (%d TokenReview + %d SAR)", total, calls["tokenreviews"], calls["subjectaccessreviews"]))
	if result.OK != n {
		b.report.note("API-calls figure: only %d of %d requests got 200 (%v; first error: %s)", result.OK, n, result.Failures, result.FirstError)
		row.verdict(false, "%d of %d requests failed", n-result.OK, n)
		return
	}
	row.verdict(total == 2, "")
	if b.cfg.targets["nginx"] {
		row.text("nginx", "0 (static token)")
	}
}

// figureSmall: /debug/pprof/cmdline with wrk over HTTP/1.1 keep-alive connections.
func (b *bench) figureSmall() {
	c := b.cfg
	label := fmt.Sprintf("Small responses, HTTP/1.1 (wrk -t%d -c%d, /cmdline)", c.threads, c.connections)
	rps := b.report.row("small_h1_rps", label+": requests/s", "requests/s", "≥ 1.0× nginx")
	p50 := b.report.row("small_h1_p50_ms", label+": p50 latency", "ms", "")
	p99 := b.report.row("small_h1_p99_ms", label+": p99 latency", "ms", "≤ 1.0× nginx")
	cpu := b.report.row("small_h1_cpu_us", label+": CPU per request (the target's own user + system time / requests)", "µs", "≤ 3× nginx")
	if !b.haveTool("wrk", "wrk", "the HTTP/1.1 small-response figure") {
		rps.Verdict = "n/a (no wrk)"
		p99.Verdict, cpu.Verdict = rps.Verdict, rps.Verdict
		return
	}
	client := &http.Client{Transport: newTransport(b.ca, true, 1), Timeout: 30 * time.Second}
	for _, t := range b.longTargets() {
		url := t.base + "/debug/pprof/cmdline"
		logf("small/http1.1: %s: warm-up", t.name)
		if _, _, err := fetch(client, url, b.token); err != nil {
			b.report.fail("small_http1", t.name, err)
			continue
		}
		if _, err := runWrk(url, b.token, c.threads, c.connections, c.warmup); err != nil {
			b.report.fail("small_http1", t.name, err)
			continue
		}
		logf("small/http1.1: %s: measuring %v", t.name, c.duration)
		var ticksBefore int64
		if t.pids != nil {
			ticksBefore = harness.CPUTicks(t.pids())
		}
		result, err := runWrk(url, b.token, c.threads, c.connections, c.duration)
		b.report.detail("small_http1", t.name, result)
		if err != nil {
			b.report.fail("small_http1", t.name, err)
			continue
		}
		if result.errors() > 0 {
			b.report.note("wrk against %s: %d non-2xx/3xx responses, %s", t.name, result.Non2xx3xx, result.SocketDetail)
		}
		rps.set(t.name, result.RequestsPerSec, thousands(result.RequestsPerSec)+errorSuffix(result.errors()))
		p50.set(t.name, result.P50Ms, formatMs(result.P50Ms))
		p99.set(t.name, result.P99Ms, formatMs(result.P99Ms))
		if t.pids != nil && result.Requests > 0 {
			ticks := harness.CPUTicks(t.pids()) - ticksBefore
			perRequest := float64(ticks) * 1e6 / harness.ClockTicksPerSecond / float64(result.Requests)
			cpu.set(t.name, perRequest, fmt.Sprintf("%.0f", perRequest))
		}
	}
	rps.againstNginx(true, 1)
	p99.againstNginx(false, 1)
	cpu.againstNginx(false, 3)
}

func (b *bench) haveTool(command, pkg, what string) bool {
	if _, err := exec.LookPath(command); err == nil {
		return true
	}
	b.report.skip("%s: %s is not installed (Debian package %s; scripts/bench installs it when run as root)", what, command, pkg)
	return false
}

// figureH2: the same small responses over HTTP/2 with h2load.
func (b *bench) figureH2() {
	c := b.cfg
	label := fmt.Sprintf("Small responses, HTTP/2 (h2load -t%d -c%d -m1, /cmdline; direct: h2c)", c.threads, c.connections)
	rps := b.report.row("small_h2_rps", label+": requests/s", "requests/s", "≥ 1.0× nginx")
	mean := b.report.row("small_h2_mean_ms", label+": mean latency", "ms", "")
	if !b.haveTool("h2load", "nghttp2-client", "the HTTP/2 small-response figure") {
		rps.Verdict = "n/a (no h2load)"
		return
	}
	for _, t := range b.longTargets() {
		url := t.base + "/debug/pprof/cmdline"
		if t.name == "direct" {
			// The upstream itself speaks HTTP/2 only as h2c: a second pprof-server with -h2c.
			if b.h2cAddr == "" {
				_, addr, err := b.startUpstream("upstream-h2c", "127.0.0.1:0", "-h2c")
				if err != nil {
					b.report.fail("small_h2", "direct", err)
					continue
				}
				b.h2cAddr = addr
			}
			url = "http://" + b.h2cAddr + "/debug/pprof/cmdline"
		}
		if t.name == "nginx" && !b.nginxHasHTTP2() {
			b.report.skip("HTTP/2 against nginx: %s has no http_v2_module", b.cfg.nginxBin)
			continue
		}
		logf("small/h2: %s: %v after %v warm-up", t.name, c.duration, c.warmup)
		result, err := runH2load(url, b.token, c.threads, c.connections, c.warmup, c.duration)
		b.report.detail("small_h2", t.name, result)
		if err != nil {
			b.report.fail("small_h2", t.name, err)
			continue
		}
		if result.errors() > 0 {
			b.report.note("h2load against %s: %d failed, %d errored, %d timeout, %d non-2xx", t.name, result.Failed, result.Errored, result.Timeout, result.StatusOther)
		}
		if t.name != "direct" && result.Protocol != "h2" {
			b.report.note("h2load against %s negotiated %q, not h2", t.name, result.Protocol)
		}
		rps.set(t.name, result.RequestsPerSec, thousands(result.RequestsPerSec)+errorSuffix(result.errors()))
		mean.set(t.name, result.MeanMs, formatMs(result.MeanMs))
	}
	rps.againstNginx(true, 1)
}

// figureStream: one large stream with curl over HTTP/1.1, and the peak RSS during it.
func (b *bench) figureStream() {
	size := b.cfg.streamBytes
	label := fmt.Sprintf("%s streamed (curl --http1.1, /stream)", formatBytes(size))
	speed := b.report.row("stream_mibps", label+": MiB/s", "MiB/s", "≥ 2.5× nginx")
	peak := b.report.row("stream_peak_rss_mib", label+": peak RSS during it (RSS before in brackets)", "MiB", "≤ 20 MiB")
	if !b.haveTool("curl", "curl", "the streaming figure") {
		speed.Verdict, peak.Verdict = "n/a (no curl)", "n/a (no curl)"
		return
	}
	for _, t := range b.longTargets() {
		url := fmt.Sprintf("%s/debug/pprof/stream?bytes=%d", t.base, size)
		logf("stream: %s: %s", t.name, formatBytes(size))
		var probe *peakProbe
		if t.pids != nil {
			probe = startPeak(t.pids())
		}
		result, err := runCurl(url, b.token, b.caFile)
		var rss *PeakResult
		if probe != nil {
			rss = probe.finish()
		}
		b.report.detail("stream", t.name, map[string]interface{}{"curl": result, "peak": rss})
		if err == nil && (result.Status != http.StatusOK || result.Bytes != size) {
			err = fmt.Errorf("status %d, %d of %d bytes", result.Status, result.Bytes, size)
		}
		if err != nil {
			b.report.fail("stream", t.name, err)
			speed.text(t.name, "failed")
			continue
		}
		speed.set(t.name, result.MiBPerSecond, fmt.Sprintf("%.0f", result.MiBPerSecond))
		if rss != nil {
			peak.set(t.name, float64(rss.PeakKiB)/1024, fmt.Sprintf("%s (%.1f)", formatMiB(rss.PeakKiB), float64(rss.BeforeKiB)/1024))
		}
	}
	speed.againstNginx(true, 2.5)
	peak.atMost(20)
}

// figureStreams: many concurrent paced streams, one HTTP/1.1 connection each.
func (b *bench) figureStreams() {
	c := b.cfg
	label := fmt.Sprintf("%s concurrent %v streams of %s (one connection each)", thousands(float64(c.streams)), c.streamDuration, formatBytes(c.streamSize))
	completed := b.report.row("streams_completed", label+": completed", "streams", fmt.Sprintf("all %s", thousands(float64(c.streams))))
	wall := b.report.row("streams_wall_s", label+": wall time (slowest stream)", "s", "")
	peak := b.report.row("streams_peak_rss_mib", label+": peak RSS (RSS 2 s after in brackets)", "MiB", "≤ 70 MiB, all complete")
	var limit syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit) == nil && limit.Cur < uint64(3*c.streams+200) {
		b.report.note("the open-file limit is %d, low for %d streams (scripts/bench raises it)", limit.Cur, c.streams)
	}
	for _, t := range b.longTargets() {
		url := fmt.Sprintf("%s/debug/pprof/stream?bytes=%d&duration=%s", t.base, c.streamSize, c.streamDuration)
		logf("streams: %s: %d concurrent streams of %v", t.name, c.streams, c.streamDuration)
		var probe *peakProbe
		if t.pids != nil {
			probe = startPeak(t.pids())
		}
		result := concurrentStreams(b.ca, url, b.token, c.streams, c.streamSize, c.streamDuration+2*time.Minute)
		if probe != nil {
			result.Peak = probe.finish()
			time.Sleep(2 * time.Second) // is the memory given back once the streams are over?
			result.Peak.SettledKiB = harness.SumKiB(t.pids(), "VmRSS")
		}
		b.report.detail("streams", t.name, result)
		cell := fmt.Sprintf("%s/%s", thousands(float64(result.Completed)), thousands(float64(result.Streams)))
		if result.Errors > 0 {
			var kinds []string
			for kind, count := range result.ErrorKinds {
				kinds = append(kinds, fmt.Sprintf("%d %s", count, kind))
			}
			sort.Strings(kinds)
			cell += " (errors: " + strings.Join(kinds, ", ") + ")"
			b.report.note("streams against %s: %d errors; first: %s", t.name, result.Errors, strings.Join(result.ErrorSamples, "; "))
		}
		if result.Headers.Max > 1 || result.Listen.Overflows > 0 {
			b.report.note("streams against %s: response headers after %.2f s median, %.2f s at the latest (TCP connected: %.2f s latest, TLS done: %.2f s latest); the kernel counted %d listen-queue overflows and %d drops meanwhile",
				t.name, result.Headers.Median, result.Headers.Max, result.Connected.Max, result.Handshaken.Max, result.Listen.Overflows, result.Listen.Drops)
		}
		completed.set(t.name, float64(result.Completed), cell)
		wall.set(t.name, result.WallSeconds, fmt.Sprintf("%.1f s (%.1f s)", result.WallSeconds, result.SlowestSeconds))
		if result.Peak != nil {
			peak.set(t.name, float64(result.Peak.PeakKiB)/1024, fmt.Sprintf("%s (%.1f)", formatMiB(result.Peak.PeakKiB), float64(result.Peak.SettledKiB)/1024))
		}
	}
	if done, ok := completed.value("proxy"); ok {
		completed.verdict(int(done) == c.streams, "")
		if rss, ok := peak.value("proxy"); ok {
			peak.verdict(rss <= 70 && int(done) == c.streams, "")
		}
	} else {
		completed.Verdict, peak.Verdict = "n/a (no proxy figure)", "n/a (no proxy figure)"
	}
}
