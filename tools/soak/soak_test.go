package main

import (
	"bytes"
	"compress/gzip"
	"errors"
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
