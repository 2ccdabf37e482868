package main

import (
	"math"
	"testing"
)

// Outputs as Debian bookworm's wrk 4.1.0, h2load 1.52.0 and curl 7.88.1 print them.

const wrkOutput = `Running 1s test @ http://127.0.0.1:36513/debug/pprof/cmdline
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   236.53us  586.68us   8.82ms   92.14%
    Req/Sec    26.47k     2.67k   30.49k    68.18%
  Latency Distribution
     50%   56.00us
     75%  125.00us
     90%  599.00us
     99%    2.96ms
  57861 requests in 1.10s, 10.54MB read
Requests/sec:  52630.62
Transfer/sec:      9.59MB
`

const wrkErrorOutput = `Running 10s test @ https://127.0.0.1:8443/debug/pprof/cmdline
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.50s   200.00ms   1.90s    90.00%
    Req/Sec    10.00      2.00    20.00     70.00%
  Latency Distribution
     50%    1.50s
     75%    1.60s
     90%    1.70s
     99%    1.90s
  200 requests in 10.00s, 20.00KB read
  Socket errors: connect 0, read 3, write 0, timeout 7
  Non-2xx or 3xx responses: 5
Requests/sec:     20.00
Transfer/sec:      2.00KB
`

const h2loadOutput = `starting benchmark...
spawning thread #0: 2 total client(s). Timing-based test with 1s of warm-up time and 1s of main duration for measurements.
Application protocol: h2
Main benchmark duration is over for thread #0. Stopping all clients.

finished in 2.00s, 23832.00 req/s, 1.57MB/s
requests: 23832 total, 23832 started, 23832 done, 23830 succeeded, 2 failed, 0 errored, 0 timeout
status codes: 23830 2xx, 0 3xx, 2 4xx, 0 5xx
traffic: 1.57MB (1644500) total, 212.64KB (217746) headers (space savings 95.99%), 1.91MB (1999068) data
                     min         max         mean         sd        +/- sd
time for request:       35us      6.60ms       159us       251us    97.26%
time for connect:        0us         0us         0us         0us     0.00%
time to 1st byte:        0us         0us         0us         0us     0.00%
req/s           :    5886.31     6036.60     5957.38       61.72    50.00%
`

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.RequestsPerSec, 52630.62) || r.Requests != 57861 || !near(r.P50Ms, 0.056) || !near(r.P75Ms, 0.125) ||
		!near(r.P90Ms, 0.599) || !near(r.P99Ms, 2.96) || r.errors() != 0 {
		t.Errorf("parsed %+v", r)
	}
	r, err = parseWrk(wrkErrorOutput)
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.P50Ms, 1500) || !near(r.P99Ms, 1900) || r.Non2xx3xx != 5 || r.SocketErrors != 10 || r.errors() != 15 {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("no error for output without figures")
	}
}

func TestParseH2load(t *testing.T) {
	r, err := parseH2load(h2loadOutput)
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.RequestsPerSec, 23832) || r.Succeeded != 23830 || r.Failed != 2 || r.StatusOther != 2 ||
		!near(r.MinMs, 0.035) || !near(r.MaxMs, 6.6) || !near(r.MeanMs, 0.159) || r.Protocol != "h2" || r.errors() != 4 {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseH2load("finished in 1.00s, 0.00 req/s, 206B/s\nrequests: 0 total, 2 started, 0 done, 0 succeeded, 0 failed, 0 errored, 0 timeout\n" +
		"time for request:        0us         0us         0us         0us     0.00%\n"); err == nil {
		t.Error("no error when no request succeeded")
	}
}

func TestParseCurl(t *testing.T) {
	r, err := parseCurl("200 1073741824 1048576000 1.024000")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 || r.Bytes != 1<<30 || !near(r.MiBPerSecond, 1000) || !near(r.Seconds, 1.024) {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseCurl("000 0"); err == nil {
		t.Error("no error for a short -w line")
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{thousands(1234567.4), "1,234,567"},
		{thousands(999), "999"},
		{formatMs(0.056), "56 µs"},
		{formatMs(2.5), "2.50 ms"},
		{formatMs(1500), "1.50 s"},
		{formatBytes(1 << 30), "1 GiB"},
		{formatBytes(256 << 20), "256 MiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
