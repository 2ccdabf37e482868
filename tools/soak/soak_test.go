package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func gzipped(t *testing.T, data string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCheckProfile(t *testing.T) {
	good := gzipped(t, "a profile")
	for _, tc := range []struct {
		name   string
		result fetchResult
		want   string
	}{
		{"good", fetchResult{status: 200, proto: "HTTP/2.0", body: good}, ""},
		{"transport error", fetchResult{err: errors.New("read tcp: connection reset by peer")}, "connection reset"},
		{"status", fetchResult{status: 503, proto: "HTTP/2.0", body: []byte("unavailable\n")}, "status 503"},
		{"protocol", fetchResult{status: 200, proto: "HTTP/1.1", body: good}, "protocol HTTP/1.1"},
		{"empty", fetchResult{status: 200, proto: "HTTP/2.0"}, "empty body"},
		{"not gzip", fetchResult{status: 200, proto: "HTTP/2.0", body: []byte("plain text")}, "not gzip"},
		{"truncated", fetchResult{status: 200, proto: "HTTP/2.0", body: good[:len(good)-6]}, "bad gzip"},
		{"empty gzip", fetchResult{status: 200, proto: "HTTP/2.0", body: gzipped(t, "")}, "empty profile"},
	} {
		if reason, detail := checkProfile(tc.result, "HTTP/2.0"); reason != tc.want {
			t.Errorf("%s: reason %q (%s), want %q", tc.name, reason, detail, tc.want)
		}
	}
}

func TestCheckFlat(t *testing.T) {
	const mib = 1024
	for _, tc := range []struct {
		name              string
		firstRSS, lastRSS []int64
		firstFDs, lastFDs []int
		rss, fds          bool
	}{
		{"steady", []int64{10 * mib, 11 * mib, 10 * mib}, []int64{11 * mib, 10 * mib, 11 * mib}, []int{14, 15, 14}, []int{14, 16, 15}, true, true},
		{"a spike in the last third", []int64{10 * mib, 10 * mib, 10 * mib}, []int64{10 * mib, 30 * mib, 10 * mib}, []int{14, 14, 14}, []int{14, 14, 14}, true, true},
		{"2 MiB floor", []int64{10 * mib, 10 * mib, 10 * mib}, []int64{12 * mib, 12 * mib, 12 * mib}, []int{14}, []int{16}, true, true},
		{"grown", []int64{10 * mib, 10 * mib, 10 * mib}, []int64{13 * mib, 13 * mib, 13 * mib}, []int{14}, []int{17}, false, false},
		{"10 % of a large RSS", []int64{100 * mib, 100 * mib}, []int64{109 * mib, 111 * mib}, []int{20}, []int{20}, true, true},
	} {
		var v ProxyVerdict
		checkFlat(&v, tc.firstRSS, tc.lastRSS, tc.firstFDs, tc.lastFDs)
		if v.RSSFlat != tc.rss || v.FDsFlat != tc.fds {
			t.Errorf("%s: RSS flat %v, fds flat %v (%+v), want %v, %v", tc.name, v.RSSFlat, v.FDsFlat, v, tc.rss, tc.fds)
		}
	}
}

func TestJudgeThirds(t *testing.T) {
	r := &Report{warmup: 30, duration: 120, names: []string{"proxy-1"}, Proxies: []ProxyVerdict{{Name: "proxy-1"}}, Requests: 100}
	for s := 0; s <= 120; s += 10 {
		r.Samples = append(r.Samples, Sample{Seconds: float64(s), Proxies: []ProxySample{{Name: "proxy-1", RSSKiB: 9000, FDs: 12}}})
	}
	r.Samples = append(r.Samples, Sample{Seconds: 125, Phase: "drained", Proxies: []ProxySample{{Name: "proxy-1", RSSKiB: 50000, FDs: 40}}})
	r.judge()
	if !r.Passed {
		t.Fatalf("failures: %v", r.Failures)
	}
	var phases []string
	for _, s := range r.Samples {
		phases = append(phases, s.Phase)
	}
	want := "warm-up,warm-up,warm-up,first third,first third,first third,middle,middle,middle,middle,last third,last third,last third,drained"
	if got := strings.Join(phases, ","); got != want {
		t.Errorf("phases %s, want %s", got, want)
	}
	if v := r.Proxies[0]; v.Samples != 3 || v.FirstThird != [2]float64{30, 50} || v.LastThird != [2]float64{100, 120} {
		t.Errorf("verdict %+v", v)
	}

	r.Errors, r.ErrorReasons = 1, map[string]int{"status 503": 1}
	r.Failures = nil
	r.judge()
	if r.Passed {
		t.Error("passed with an error")
	}
}

func TestSamplesAfterWarmup(t *testing.T) {
	for _, tc := range []struct {
		duration, warmup, sample time.Duration
		want                     int
	}{
		{10 * time.Minute, time.Minute, 10 * time.Second, 55},
		{2 * time.Minute, 30 * time.Second, 10 * time.Second, 10},
		{2 * time.Minute, 35 * time.Second, 10 * time.Second, 9},
		{time.Minute, 2 * time.Minute, 10 * time.Second, 0},
	} {
		cfg := config{duration: tc.duration, warmup: tc.warmup, sample: tc.sample}
		if got := samplesAfterWarmup(cfg); got != tc.want {
			t.Errorf("%v/%v/%v: %d, want %d", tc.duration, tc.warmup, tc.sample, got, tc.want)
		}
	}
}

// swiftPrometheusSlices is the slice part of a proxy's /metrics, as swift-prometheus writes it.
const swiftPrometheusSlices = `# HELP pprof_rbac_proxy_cpu_profile_slice_gap_seconds Time the upstream's CPU profiler was off between two consecutive slices.
# TYPE pprof_rbac_proxy_cpu_profile_slice_gap_seconds histogram
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le="0.0001"} 0
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le="0.0005"} 0
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le="0.001"} 21
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le="0.002"} 46
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le="0.005"} 48
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le="1.0"} 48
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le="+Inf"} 49
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_sum 4.9
pprof_rbac_proxy_cpu_profile_slice_gap_seconds_count 49
# TYPE pprof_rbac_proxy_cpu_profile_slices_total counter
pprof_rbac_proxy_cpu_profile_slices_total{result="failed"} 2
pprof_rbac_proxy_cpu_profile_slices_total{result="ok"} 50
pprof_rbac_proxy_requests_total{endpoint="/debug/pprof/profile", code="200", note="a \"quoted\", value\\"} 7 1700000000000
`

func TestParseExposition(t *testing.T) {
	samples, err := parseExposition(swiftPrometheusSlices)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 12 {
		t.Fatalf("%d samples, want 12", len(samples))
	}
	last := samples[len(samples)-1]
	if last.name != "pprof_rbac_proxy_requests_total" || last.value != 7 || last.labels["code"] != "200" ||
		last.labels["note"] != `a "quoted", value\` {
		t.Errorf("last sample %+v", last)
	}
	for _, bad := range []string{"name_only", `m{le="1"`, `m{le="1"} x`, `m{le} 1`} {
		if _, err := parseExposition(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestSliceFigures(t *testing.T) {
	samples, err := parseExposition(swiftPrometheusSlices)
	if err != nil {
		t.Fatal(err)
	}
	f := sliceFigures(samples)
	if !f.Found || f.OK != 50 || f.Failed != 2 || f.Gaps != 49 || f.ShortGaps != 48 || f.LongGaps != 1 ||
		f.ShortGapsAtMost != "0.005" || f.LargestBound != "1.0" || math.Abs(f.MeanGapSeconds-0.1) > 1e-9 {
		t.Errorf("figures %+v", f)
	}
	if got, want := f.cells(), "50 | 2 | 48 | ≤ 5ms | 1 | 100ms"; got != want {
		t.Errorf("cells %q, want %q", got, want)
	}

	// Only long gaps.
	long := "pprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le=\"1.0\"} 0\npprof_rbac_proxy_cpu_profile_slice_gap_seconds_bucket{le=\"+Inf\"} 2\n" +
		"pprof_rbac_proxy_cpu_profile_slice_gap_seconds_count 2\npprof_rbac_proxy_cpu_profile_slice_gap_seconds_sum 9\n"
	samples, _ = parseExposition(long)
	if f := sliceFigures(samples); f.ShortGaps != 0 || f.LongGaps != 2 || f.ShortGapsAtMost != "" || f.MeanGapSeconds != 4.5 {
		t.Errorf("long gaps only: %+v", f)
	}

	// Slicing off: the series exist, at 0.
	samples, _ = parseExposition("pprof_rbac_proxy_cpu_profile_slices_total{result=\"ok\"} 0\npprof_rbac_proxy_cpu_profile_slice_gap_seconds_count 0\n")
	if f := sliceFigures(samples); !f.Found || f.Gaps != 0 || f.cells() != "0 | 0 | 0 | — | 0 | —" {
		t.Errorf("slicing off: %+v, cells %q", f, f.cells())
	}
	// An older proxy: none.
	if f := sliceFigures(nil); f.Found || f.cells() != "— | — | — | — | — | —" {
		t.Errorf("no metrics: %+v", f)
	}
}

func TestCPUUsage(t *testing.T) {
	start := cpuReading{at: time.Unix(1000, 0), upstream: []int64{100, 50}, proxy: []int64{10, 20}}
	end := cpuReading{at: time.Unix(1120, 0), upstream: []int64{700, 0}, proxy: []int64{250, 20}}
	usage := cpuUsage([]string{"proxy-1", "proxy-2"}, start, end, []bool{false, true})
	if u := usage[0]; u.UpstreamCPUSeconds != 6 || u.UpstreamCPUPerMinute != 3 || u.ProxyCPUSeconds != 2.4 || u.ProxyCPUPerMinute != 1.2 || u.CPUError != "" {
		t.Errorf("proxy-1: %+v", u)
	}
	if u := usage[1]; u.CPUError != "exited" || u.UpstreamCPUSeconds != 0 {
		t.Errorf("proxy-2 (exited): %+v", u)
	}
}

func TestProxyFlagList(t *testing.T) {
	var flags flagList
	for _, value := range []string{"--cpu-profile-slices=false", "--capture-queue-size=2"} {
		if err := flags.Set(value); err != nil {
			t.Fatal(err)
		}
	}
	if err := flags.Set("cpu-profile-slices=false"); err == nil {
		t.Error("a value without a leading dash was taken")
	}
	if got := flags.String(); got != "--cpu-profile-slices=false --capture-queue-size=2" {
		t.Errorf("flags %q", got)
	}
}

func TestJudgePersonCaptures(t *testing.T) {
	newReport := func() *Report {
		r := &Report{warmup: 30, duration: 120, person: true, names: []string{"proxy-1"}, Proxies: []ProxyVerdict{{Name: "proxy-1"}}, Requests: 100}
		for s := 0; s <= 120; s += 10 {
			r.Samples = append(r.Samples, Sample{Seconds: float64(s), Proxies: []ProxySample{{Name: "proxy-1", RSSKiB: 9000, FDs: 12}}})
		}
		return r
	}
	r := newReport()
	r.judge()
	if r.Passed || len(r.Failures) != 1 || r.Failures[0] != "no person capture finished" {
		t.Errorf("no person capture: passed %v, failures %v", r.Passed, r.Failures)
	}
	r = newReport()
	r.PersonCaptures, r.PersonErrors, r.PersonErrorReasons = 8, 2, map[string]int{"timeout": 1, "status 429": 1}
	r.judge()
	if want := "2 of 8 person captures failed: 1 × status 429, 1 × timeout"; r.Passed || len(r.Failures) != 1 || r.Failures[0] != want {
		t.Errorf("failed person captures: passed %v, failures %v, want %q", r.Passed, r.Failures, want)
	}
	r = newReport()
	r.PersonCaptures = 8
	r.judge()
	if !r.Passed {
		t.Errorf("failures %v", r.Failures)
	}
}

func TestWriteReaders(t *testing.T) {
	dir := t.TempDir()
	usersPath, rulesPath, err := writeReaders(dir, map[string]string{"token-a": "parca", "token-b": "person"}, "pprof-readers")
	if err != nil {
		t.Fatal(err)
	}
	var users map[string]struct {
		Username string   `json:"username"`
		UID      string   `json:"uid"`
		Groups   []string `json:"groups"`
	}
	var rules []struct {
		Group string   `json:"group"`
		Paths []string `json:"paths"`
		Verbs []string `json:"verbs"`
	}
	for path, into := range map[string]interface{}{usersPath: &users, rulesPath: &rules} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, into); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if u := users["token-b"]; u.Username != "person" || u.UID != "uid-person" || len(u.Groups) != 1 || u.Groups[0] != "pprof-readers" || users["token-a"].Username != "parca" {
		t.Errorf("users %+v", users)
	}
	if len(rules) != 1 || rules[0].Group != "pprof-readers" || strings.Join(rules[0].Paths, ",") != "/debug/pprof,/debug/pprof/*" || rules[0].Verbs[0] != "get" {
		t.Errorf("rules %+v", rules)
	}
}
