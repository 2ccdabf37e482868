package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"pprof-rbac-proxy/tools/internal/harness"
)

// What the processes cost: the CPU time of every upstream (the profiled Go program) and proxy
// between the warm-up's end and the load's end, from /proc/PID/stat (utime + stime, counted in
// clock ticks of harness.ClockTicksPerSecond = 100, Linux's USER_HZ, assumed), and each proxy's
// CPU profile slice metrics, read from its /metrics at the end.

// cpuUnitText says where the CPU figures come from, for the report.
const cpuUnitText = "utime + stime from /proc/PID/stat, at 100 clock ticks per second: Linux's USER_HZ, assumed"

// The proxy's slice metrics (ProxyMetrics.swift).
const (
	slicesMetric   = "pprof_rbac_proxy_cpu_profile_slices_total"
	sliceGapMetric = "pprof_rbac_proxy_cpu_profile_slice_gap_seconds"
)

// cpuReading is the CPU time every upstream and proxy had used at one moment, in clock ticks,
// in the order of the targets.
type cpuReading struct {
	at       time.Time
	upstream []int64
	proxy    []int64
}

// readCPU reads the CPU time of every target's upstream and proxy now.
func (s *soak) readCPU() cpuReading {
	reading := cpuReading{at: time.Now()}
	for _, t := range s.targets {
		reading.upstream = append(reading.upstream, harness.CPUTicks([]int{t.upstream.PID()}))
		reading.proxy = append(reading.proxy, harness.CPUTicks([]int{t.proxy.PID()}))
	}
	return reading
}

// TargetUsage is what one target's processes cost between the warm-up's end and the load's end,
// and what its proxy's slicing did over the whole run.
type TargetUsage struct {
	Name                 string       `json:"name"`
	UpstreamCPUSeconds   float64      `json:"upstreamCPUSeconds"`
	ProxyCPUSeconds      float64      `json:"proxyCPUSeconds"`
	UpstreamCPUPerMinute float64      `json:"upstreamCPUSecondsPerMinute"`
	ProxyCPUPerMinute    float64      `json:"proxyCPUSecondsPerMinute"`
	CPUError             string       `json:"cpuError,omitempty"` // a process exited: no figures
	Slices               SliceFigures `json:"slices"`
}

// cpuUsage turns two readings into per-target CPU seconds and seconds per minute of the window
// between them; exited[i] marks a target whose upstream or proxy has exited (its figures are
// meaningless).
func cpuUsage(names []string, start, end cpuReading, exited []bool) []TargetUsage {
	minutes := end.at.Sub(start.at).Minutes()
	var usage []TargetUsage
	for i, name := range names {
		u := TargetUsage{Name: name}
		if exited[i] {
			u.CPUError = "exited"
		} else if minutes > 0 {
			u.UpstreamCPUSeconds = float64(end.upstream[i]-start.upstream[i]) / harness.ClockTicksPerSecond
			u.ProxyCPUSeconds = float64(end.proxy[i]-start.proxy[i]) / harness.ClockTicksPerSecond
			u.UpstreamCPUPerMinute = u.UpstreamCPUSeconds / minutes
			u.ProxyCPUPerMinute = u.ProxyCPUSeconds / minutes
		}
		usage = append(usage, u)
	}
	return usage
}

// SliceFigures are one proxy's CPU profile slice metrics at the end of the run. The proxy also
// counts the pause between two runs of slicing (when no request was waiting) as a gap, so the
// gaps above the histogram's largest finite bound (1 s) are told apart from the others.
type SliceFigures struct {
	Found          bool    `json:"found"` // the proxy exports them
	Error          string  `json:"error,omitempty"`
	OK             int64   `json:"ok"`
	Failed         int64   `json:"failed"`
	Gaps           int64   `json:"gaps"`           // between two consecutive slices
	MeanGapSeconds float64 `json:"meanGapSeconds"` // over every gap
	LargestBound   string  `json:"largestBoundSeconds"`
	ShortGaps      int64   `json:"shortGaps"` // at most LargestBound
	LongGaps       int64   `json:"longGaps"`  // above it
	// ShortGapsAtMost is the `le` of the lowest bucket holding every short gap (their maximum is at
	// most that many seconds); "" when there is none.
	ShortGapsAtMost string `json:"shortGapsAtMost"`
}

// readSlices reads a proxy's /metrics (TLS, trusting ca) and picks the slice figures out of it.
func readSlices(addr string, ca *x509.CertPool) SliceFigures {
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	response, err := client.Get("https://" + addr + "/metrics")
	if err != nil {
		return SliceFigures{Error: err.Error()}
	}
	defer response.Body.Close()
	body, err := io.ReadAll(io.LimitReader(response.Body, maxBody))
	if err == nil && response.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET /metrics: status %d", response.StatusCode)
	}
	if err != nil {
		return SliceFigures{Error: err.Error()}
	}
	samples, err := parseExposition(string(body))
	if err != nil {
		return SliceFigures{Error: err.Error()}
	}
	return sliceFigures(samples)
}

// metricSample is one sample line of the Prometheus text format.
type metricSample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseExposition parses the Prometheus text format (version 0.0.4): `name{label="value",...}
// value [timestamp]` lines; comments and blank lines are skipped.
func parseExposition(text string) ([]metricSample, error) {
	var samples []metricSample
	for number, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sample, err := parseSampleLine(line)
		if err != nil {
			return nil, fmt.Errorf("/metrics line %d: %v", number+1, err)
		}
		samples = append(samples, sample)
	}
	return samples, nil
}

// parseSampleLine parses one sample line (see parseExposition).
func parseSampleLine(line string) (metricSample, error) {
	sample := metricSample{labels: map[string]string{}}
	end := strings.IndexAny(line, "{ \t")
	if end <= 0 {
		return sample, fmt.Errorf("no value in %q", line)
	}
	sample.name, line = line[:end], line[end:]
	if strings.HasPrefix(line, "{") {
		rest, err := parseLabels(line[1:], sample.labels)
		if err != nil {
			return sample, err
		}
		line = rest
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || len(fields) > 2 {
		return sample, fmt.Errorf("%s: want a value and at most a timestamp, got %q", sample.name, line)
	}
	value, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return sample, fmt.Errorf("%s: %v", sample.name, err)
	}
	sample.value = value
	return sample, nil
}

// parseLabels reads `name="value",...}` into labels (values unescaped: \\, \" and \n) and returns
// what follows the closing brace.
func parseLabels(text string, labels map[string]string) (string, error) {
	for {
		text = strings.TrimLeft(text, " ,")
		if strings.HasPrefix(text, "}") {
			return text[1:], nil
		}
		equals := strings.Index(text, "=\"")
		if equals <= 0 {
			return "", fmt.Errorf("bad labels at %q", text)
		}
		name := strings.TrimSpace(text[:equals])
		var value strings.Builder
		i := equals + 2
		for ; i < len(text) && text[i] != '"'; i++ {
			if text[i] == '\\' && i+1 < len(text) {
				i++
				if text[i] == 'n' {
					value.WriteByte('\n')
					continue
				}
			}
			value.WriteByte(text[i])
		}
		if i == len(text) {
			return "", fmt.Errorf("unterminated value of label %s", name)
		}
		labels[name] = value.String()
		text = text[i+1:]
	}
}

// sliceFigures picks the slice counters and the gap histogram out of a proxy's metrics.
func sliceFigures(samples []metricSample) SliceFigures {
	var figures SliceFigures
	type bucket struct {
		le    float64
		text  string
		count int64
	}
	var buckets []bucket // finite ones
	var gapSum float64
	for _, sample := range samples {
		switch sample.name {
		case slicesMetric:
			figures.Found = true
			switch sample.labels["result"] {
			case "ok":
				figures.OK = int64(sample.value)
			case "failed":
				figures.Failed = int64(sample.value)
			}
		case sliceGapMetric + "_count":
			figures.Found = true
			figures.Gaps = int64(sample.value)
		case sliceGapMetric + "_sum":
			gapSum = sample.value
		case sliceGapMetric + "_bucket":
			text := sample.labels["le"]
			if le, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(le, 1) {
				buckets = append(buckets, bucket{le, text, int64(sample.value)})
			}
		}
	}
	if figures.Gaps == 0 {
		return figures
	}
	figures.MeanGapSeconds = gapSum / float64(figures.Gaps)
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].le < buckets[j].le })
	if len(buckets) > 0 {
		largest := buckets[len(buckets)-1]
		figures.LargestBound, figures.ShortGaps = largest.text, largest.count
	}
	figures.LongGaps = figures.Gaps - figures.ShortGaps
	for _, b := range buckets {
		if figures.ShortGaps > 0 && b.count >= figures.ShortGaps {
			figures.ShortGapsAtMost = b.text
			break
		}
	}
	return figures
}

// secondsText is a number of seconds written as a Go duration ("0.0005" → "500µs").
func secondsText(seconds string) string {
	value, err := strconv.ParseFloat(seconds, 64)
	if err != nil {
		return seconds
	}
	return time.Duration(value * float64(time.Second)).String()
}
