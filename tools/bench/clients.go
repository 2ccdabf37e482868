package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"pprof-rbac-proxy/tools/internal/harness"
)

func wholeSeconds(d time.Duration) int {
	seconds := int((d + time.Second/2) / time.Second)
	if seconds < 1 {
		seconds = 1
	}
	return seconds
}

// wrk

// WrkResult is what wrk printed.
type WrkResult struct {
	RequestsPerSec float64 `json:"requestsPerSec"`
	Requests       int64   `json:"requests"`
	P50Ms          float64 `json:"p50Ms"`
	P75Ms          float64 `json:"p75Ms"`
	P90Ms          float64 `json:"p90Ms"`
	P99Ms          float64 `json:"p99Ms"`
	Non2xx3xx      int64   `json:"non2xx3xx"`
	SocketErrors   int64   `json:"socketErrors"`
	SocketDetail   string  `json:"socketErrorDetail,omitempty"`
	Command        string  `json:"command"`
}

func (r WrkResult) errors() int64 { return r.Non2xx3xx + r.SocketErrors }

var (
	wrkRate      = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	wrkRequests  = regexp.MustCompile(`(?m)^\s*(\d+) requests in`)
	wrkPercent   = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$`)
	wrkNon2xx    = regexp.MustCompile(`(?m)Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocketErr = regexp.MustCompile(`(?m)Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrk(out string) (WrkResult, error) {
	var result WrkResult
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		return result, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	result.RequestsPerSec, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkRequests.FindStringSubmatch(out); m != nil {
		result.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	found := 0
	for _, m := range wrkPercent.FindAllStringSubmatch(out, -1) {
		ms, err := latencyMs(m[2], m[3])
		if err != nil {
			return result, err
		}
		switch m[1] {
		case "50":
			result.P50Ms = ms
		case "75":
			result.P75Ms = ms
		case "90":
			result.P90Ms = ms
		case "99":
			result.P99Ms = ms
		}
		found++
	}
	if found < 4 {
		return result, fmt.Errorf("no Latency Distribution in wrk output (run with --latency):\n%s", out)
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		result.Non2xx3xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocketErr.FindStringSubmatch(out); m != nil {
		for _, field := range m[1:] {
			n, _ := strconv.ParseInt(field, 10, 64)
			result.SocketErrors += n
		}
		result.SocketDetail = strings.TrimSpace(m[0])
	}
	return result, nil
}

// latencyMs converts wrk's and h2load's "123.45us", "1.2ms", "2s" (and wrk's "1.5m") to ms.
func latencyMs(number, unit string) (float64, error) {
	value, err := strconv.ParseFloat(number, 64)
	if err != nil {
		return 0, fmt.Errorf("latency %q%s: %v", number, unit, err)
	}
	switch unit {
	case "us":
		return value / 1000, nil
	case "ms":
		return value, nil
	case "s":
		return value * 1000, nil
	case "m":
		return value * 60000, nil
	}
	return 0, fmt.Errorf("latency unit %q", unit)
}

func runWrk(url, token string, threads, connections int, duration time.Duration) (WrkResult, error) {
	argv := []string{"wrk", fmt.Sprintf("-t%d", threads), fmt.Sprintf("-c%d", connections),
		fmt.Sprintf("-d%ds", wholeSeconds(duration)), "--latency", "-H", "Authorization: Bearer " + token, url}
	out, command, err := runRedacted(duration+2*time.Minute, token, argv)
	if err != nil {
		return WrkResult{}, err
	}
	result, err := parseWrk(out)
	result.Command = command
	return result, err
}

// h2load

// H2loadResult is what h2load printed.
type H2loadResult struct {
	RequestsPerSec float64 `json:"requestsPerSec"`
	Succeeded      int64   `json:"succeeded"`
	Failed         int64   `json:"failed"`
	Errored        int64   `json:"errored"`
	Timeout        int64   `json:"timeout"`
	Status2xx      int64   `json:"status2xx"`
	StatusOther    int64   `json:"statusNot2xx"`
	MeanMs         float64 `json:"meanMs"`
	MinMs          float64 `json:"minMs"`
	MaxMs          float64 `json:"maxMs"`
	Protocol       string  `json:"protocol"`
	Command        string  `json:"command"`
}

func (r H2loadResult) errors() int64 { return r.Failed + r.Errored + r.Timeout + r.StatusOther }

var (
	h2Finished = regexp.MustCompile(`(?m)^finished in [\d.]+\w+, ([\d.]+) req/s`)
	h2Requests = regexp.MustCompile(`(?m)^requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2Status   = regexp.MustCompile(`(?m)^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
	h2Time     = regexp.MustCompile(`(?m)^time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)`)
	h2Protocol = regexp.MustCompile(`(?m)^Application protocol: (\S+)`)
)

func parseH2load(out string) (H2loadResult, error) {
	var result H2loadResult
	m := h2Finished.FindStringSubmatch(out)
	if m == nil {
		return result, fmt.Errorf("no 'finished in' in h2load output:\n%s", out)
	}
	result.RequestsPerSec, _ = strconv.ParseFloat(m[1], 64)
	if m := h2Requests.FindStringSubmatch(out); m != nil {
		result.Succeeded, _ = strconv.ParseInt(m[1], 10, 64)
		result.Failed, _ = strconv.ParseInt(m[2], 10, 64)
		result.Errored, _ = strconv.ParseInt(m[3], 10, 64)
		result.Timeout, _ = strconv.ParseInt(m[4], 10, 64)
	}
	if m := h2Status.FindStringSubmatch(out); m != nil {
		result.Status2xx, _ = strconv.ParseInt(m[1], 10, 64)
		for _, field := range m[2:] {
			n, _ := strconv.ParseInt(field, 10, 64)
			result.StatusOther += n
		}
	}
	if result.Succeeded == 0 {
		return result, fmt.Errorf("h2load: no request succeeded:\n%s", out)
	}
	m = h2Time.FindStringSubmatch(out)
	if m == nil {
		return result, fmt.Errorf("no 'time for request' in h2load output:\n%s", out)
	}
	result.MinMs, _ = latencyMs(m[1], m[2])
	result.MaxMs, _ = latencyMs(m[3], m[4])
	result.MeanMs, _ = latencyMs(m[5], m[6])
	if m := h2Protocol.FindStringSubmatch(out); m != nil {
		result.Protocol = m[1]
	} else {
		result.Protocol = "h2c" // h2load prints the protocol only after a TLS handshake
	}
	return result, nil
}

func runH2load(url, token string, threads, connections int, warmup, duration time.Duration) (H2loadResult, error) {
	argv := []string{"h2load", fmt.Sprintf("-t%d", threads), fmt.Sprintf("-c%d", connections), "-m1",
		"-D", strconv.Itoa(wholeSeconds(duration)), fmt.Sprintf("--warm-up-time=%d", wholeSeconds(warmup)),
		"-H", "authorization: Bearer " + token, url}
	out, command, err := runRedacted(warmup+duration+2*time.Minute, token, argv)
	if err != nil {
		return H2loadResult{}, err
	}
	result, err := parseH2load(out)
	result.Command = command
	return result, err
}

// curl

// CurlResult is one download measured by curl.
type CurlResult struct {
	Status         int     `json:"status"`
	Bytes          int64   `json:"bytes"`
	BytesPerSecond float64 `json:"bytesPerSecond"`
	MiBPerSecond   float64 `json:"mibPerSecond"`
	Seconds        float64 `json:"seconds"`
	Command        string  `json:"command"`
}

func parseCurl(out string) (CurlResult, error) {
	var result CurlResult
	fields := strings.Fields(out)
	if len(fields) != 4 {
		return result, fmt.Errorf("unexpected curl -w output %q", out)
	}
	var err error
	if result.Status, err = strconv.Atoi(fields[0]); err != nil {
		return result, fmt.Errorf("curl status %q", fields[0])
	}
	if result.Bytes, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
		return result, fmt.Errorf("curl size %q", fields[1])
	}
	if result.BytesPerSecond, err = strconv.ParseFloat(fields[2], 64); err != nil {
		return result, fmt.Errorf("curl speed %q", fields[2])
	}
	result.Seconds, _ = strconv.ParseFloat(fields[3], 64)
	result.MiBPerSecond = result.BytesPerSecond / (1 << 20)
	return result, nil
}

func runCurl(url, token, caFile string) (CurlResult, error) {
	argv := []string{"curl", "-sS", "--http1.1", "-o", "/dev/null",
		"-w", "%{http_code} %{size_download} %{speed_download} %{time_total}",
		"-H", "Authorization: Bearer " + token}
	if strings.HasPrefix(url, "https:") {
		argv = append(argv, "--cacert", caFile)
	}
	argv = append(argv, url)
	out, command, err := runRedacted(30*time.Minute, token, argv)
	if err != nil {
		return CurlResult{}, err
	}
	result, err := parseCurl(out)
	result.Command = command
	return result, err
}

// runRedacted runs a client tool whose argv carries the bearer token, and returns its output and its
// command line; the token is replaced by TOKEN in the command line and in any error.
func runRedacted(timeout time.Duration, token string, argv []string) (out, command string, err error) {
	out, err = harness.RunTool(timeout, argv...)
	if err != nil {
		return "", "", errors.New(strings.ReplaceAll(err.Error(), token, "TOKEN"))
	}
	return out, strings.ReplaceAll(strings.Join(argv, " "), token, "TOKEN"), nil
}

// The Go client.

// newTransport is an HTTP/1.1 transport trusting ca (HTTP/2 off: every figure that uses it is
// about HTTP/1.1 connections).
func newTransport(ca *x509.CertPool, keepAlive bool, idle int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: ca},
		TLSHandshakeTimeout: 60 * time.Second,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		DisableKeepAlives:   !keepAlive,
		DisableCompression:  true,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
	}
}

// fetch GETs url with the bearer token (none if empty), reads the body and returns status and size.
func fetch(client *http.Client, url, token string) (int, int64, error) {
	request, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	if token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	response, err := client.Do(request)
	if err != nil {
		return 0, 0, err
	}
	defer response.Body.Close()
	n, err := io.Copy(io.Discard, response.Body)
	return response.StatusCode, n, err
}

// ManyResult is the outcome of many small keep-alive requests.
type ManyResult struct {
	Requests   int            `json:"requests"`
	Workers    int            `json:"workers"`
	OK         int            `json:"ok"`
	Failures   map[string]int `json:"failures,omitempty"`
	Seconds    float64        `json:"seconds"`
	PerSecond  float64        `json:"requestsPerSec"`
	FirstError string         `json:"firstError,omitempty"`
}

// manyRequests sends n GETs from `workers` goroutines over keep-alive connections.
func manyRequests(ca *x509.CertPool, url, token string, n, workers int) ManyResult {
	transport := newTransport(ca, true, workers)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: time.Minute}
	result := ManyResult{Requests: n, Workers: workers, Failures: map[string]int{}}
	var mu sync.Mutex
	next := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				status, _, err := fetch(client, url, token)
				mu.Lock()
				switch {
				case err != nil:
					result.Failures["error"]++
					if result.FirstError == "" {
						result.FirstError = err.Error()
					}
				case status != http.StatusOK:
					result.Failures[strconv.Itoa(status)]++
				default:
					result.OK++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	result.Seconds = time.Since(start).Seconds()
	result.PerSecond = float64(n) / result.Seconds
	return result
}

// StreamsResult is the outcome of many concurrent long streams, one connection each.
type StreamsResult struct {
	Streams        int            `json:"streams"`
	Completed      int            `json:"completed"`
	Errors         int            `json:"errors"`
	ErrorKinds     map[string]int `json:"errorKinds,omitempty"`
	ErrorSamples   []string       `json:"errorSamples,omitempty"`
	WallSeconds    float64        `json:"wallSeconds"`
	MedianSeconds  float64        `json:"medianStreamSeconds"`
	SlowestSeconds float64        `json:"slowestStreamSeconds"`
	// Phases of the streams, from the start: TCP connected, TLS handshake done, response headers.
	Connected  Spread      `json:"connectedSeconds"`
	Handshaken Spread      `json:"tlsHandshakeDoneSeconds"`
	Headers    Spread      `json:"headersSeconds"`
	Listen     ListenStats `json:"listenQueue"` // the kernel's counters during the figure
	Peak       *PeakResult `json:"peak,omitempty"`
}

// Spread summarises durations.
type Spread struct {
	Count  int     `json:"count"`
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
}

func spread(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	return Spread{Count: len(sorted), Median: sorted[len(sorted)/2], P99: sorted[len(sorted)*99/100], Max: sorted[len(sorted)-1]}
}

// ListenStats are TcpExt ListenOverflows and ListenDrops from /proc/net/netstat (all sockets of
// this network namespace): connections the kernel dropped because an accept queue was full.
type ListenStats struct {
	Overflows int64 `json:"overflows"`
	Drops     int64 `json:"drops"`
}

func readListenStats() ListenStats {
	data, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		return ListenStats{}
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || names[0] != "TcpExt:" || len(values) != len(names) {
			continue
		}
		var stats ListenStats
		for j, name := range names {
			n, _ := strconv.ParseInt(values[j], 10, 64)
			switch name {
			case "ListenOverflows":
				stats.Overflows = n
			case "ListenDrops":
				stats.Drops = n
			}
		}
		return stats
	}
	return ListenStats{}
}

// concurrentStreams opens n HTTP/1.1 connections at once, each GETting url (expecting size
// bytes), and waits for all of them.
func concurrentStreams(ca *x509.CertPool, url, token string, n int, size int64, timeout time.Duration) StreamsResult {
	transport := newTransport(ca, false, 0)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: timeout}
	result := StreamsResult{Streams: n, ErrorKinds: map[string]int{}}
	var mu sync.Mutex
	var durations, connected, handshaken, headers []float64
	listenBefore := readListenStats()
	gate := make(chan struct{})
	var start time.Time
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			var connectedAt, handshakeAt time.Time
			trace := &httptrace.ClientTrace{
				ConnectDone: func(_, _ string, err error) {
					if err == nil {
						connectedAt = time.Now()
					}
				},
				TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
					if err == nil {
						handshakeAt = time.Now()
					}
				},
			}
			status, got, headersAt, err := fetchTraced(client, url, token, trace)
			elapsed := time.Since(start).Seconds()
			mu.Lock()
			defer mu.Unlock()
			if !connectedAt.IsZero() {
				connected = append(connected, connectedAt.Sub(start).Seconds())
			}
			if !handshakeAt.IsZero() {
				handshaken = append(handshaken, handshakeAt.Sub(start).Seconds())
			}
			if !headersAt.IsZero() {
				headers = append(headers, headersAt.Sub(start).Seconds())
			}
			kind, detail := "", ""
			switch {
			case err != nil:
				kind, detail = classify(err), err.Error()
			case status != http.StatusOK:
				kind, detail = fmt.Sprintf("status %d", status), fmt.Sprintf("status %d after %d bytes", status, got)
			case got != size:
				kind, detail = "short body", fmt.Sprintf("%d of %d bytes", got, size)
			}
			if kind != "" {
				result.Errors++
				result.ErrorKinds[kind]++
				if len(result.ErrorSamples) < 5 {
					result.ErrorSamples = append(result.ErrorSamples, fmt.Sprintf("after %.1fs: %s", elapsed, detail))
				}
				return
			}
			result.Completed++
			durations = append(durations, elapsed)
		}()
	}
	start = time.Now()
	close(gate)
	wg.Wait()
	result.WallSeconds = time.Since(start).Seconds()
	listenAfter := readListenStats()
	result.Listen = ListenStats{Overflows: listenAfter.Overflows - listenBefore.Overflows, Drops: listenAfter.Drops - listenBefore.Drops}
	if len(durations) > 0 {
		sort.Float64s(durations)
		result.MedianSeconds = durations[len(durations)/2]
		result.SlowestSeconds = durations[len(durations)-1]
	}
	result.Connected, result.Handshaken, result.Headers = spread(connected), spread(handshaken), spread(headers)
	return result
}

// fetchTraced is fetch with a client trace, also returning when the response headers arrived.
func fetchTraced(client *http.Client, url, token string, trace *httptrace.ClientTrace) (int, int64, time.Time, error) {
	request, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, time.Time{}, err
	}
	request = request.WithContext(httptrace.WithClientTrace(request.Context(), trace))
	request.Header.Set("Authorization", "Bearer "+token)
	response, err := client.Do(request)
	if err != nil {
		return 0, 0, time.Time{}, err
	}
	headersAt := time.Now()
	defer response.Body.Close()
	n, err := io.Copy(io.Discard, response.Body)
	return response.StatusCode, n, headersAt, err
}

func classify(err error) string {
	text := err.Error()
	for _, kind := range []string{"connection refused", "connection reset", "broken pipe", "handshake", "timeout", "EOF"} {
		if strings.Contains(text, kind) {
			return kind
		}
	}
	return "other"
}
