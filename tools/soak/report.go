package main

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"time"

	"pprof-rbac-proxy/tools/internal/harness"
)

// The flatness rule, applied to each proxy over the samples taken after the warm-up and before
// the load ends, split into thirds (the middle third is not compared):
//
//	RSS: median of the last third − median of the first third ≤ max(10 % of the first, 2 MiB);
//	fds: the largest count in the last third ≤ the largest count in the first third + 2.
//
// Medians ignore a sample caught in the middle of a burst of scrapes; the thirds compare the
// steady state near the start with the steady state near the end, so a leak of a connection or a
// buffer per scrape round shows up however late it starts.
const (
	rssGrowthFraction = 0.10
	rssGrowthFloorKiB = 2 * 1024
	fdSlack           = 2
)

const ruleText = "after the warm-up, the samples taken while the load ran are split into thirds; for every proxy, " +
	"the median RSS of the last third may exceed the median of the first third by at most 10 % or 2 MiB, whichever is larger, " +
	"and the most descriptors open in the last third may exceed the most in the first third by at most 2; " +
	"and no scrape may fail (status other than 200, empty body, not a complete gzip stream, other protocol than asked for, transport error) " +
	"and no process may exit."

// ProxySample is one proxy's figures at one moment.
type ProxySample struct {
	Name   string `json:"name"`
	RSSKiB int64  `json:"rssKiB"`
	FDs    int    `json:"fds"`
	Error  string `json:"error,omitempty"` // /proc could not be read (the process is gone)
}

// Sample is everything recorded at one moment.
type Sample struct {
	Seconds  float64        `json:"seconds"` // since the load began
	Phase    string         `json:"phase"`   // warm-up, first third, middle, last third, drained
	Proxies  []ProxySample  `json:"proxies"`
	Requests int            `json:"requests"` // finished scrapes so far
	Errors   int            `json:"errors"`   // failed scrapes so far
	APICalls map[string]int `json:"apiCalls,omitempty"`
}

// ProxyVerdict is the flatness check of one proxy.
type ProxyVerdict struct {
	Name              string     `json:"name"`
	PID               int        `json:"pid"`
	Samples           int        `json:"samplesCompared"` // per third
	FirstThird        [2]float64 `json:"firstThirdSeconds"`
	LastThird         [2]float64 `json:"lastThirdSeconds"`
	RSSFirstMedianKiB int64      `json:"rssFirstMedianKiB"`
	RSSLastMedianKiB  int64      `json:"rssLastMedianKiB"`
	RSSGrowthKiB      int64      `json:"rssGrowthKiB"`
	RSSAllowedKiB     int64      `json:"rssAllowedGrowthKiB"`
	RSSMinKiB         int64      `json:"rssMinKiB"` // over the whole run, warm-up included
	RSSMaxKiB         int64      `json:"rssMaxKiB"`
	FDsFirstMax       int        `json:"fdsFirstMax"`
	FDsLastMax        int        `json:"fdsLastMax"`
	FDsMin            int        `json:"fdsMin"`
	FDsMax            int        `json:"fdsMax"`
	RSSFlat           bool       `json:"rssFlat"`
	FDsFlat           bool       `json:"fdsFlat"`
}

// ProfileSummary is what one profile type's scrapes did.
type ProfileSummary struct {
	profileType
	Requests      int     `json:"requests"`
	Errors        int     `json:"errors"`
	MedianSeconds float64 `json:"medianSeconds"`
	MaxSeconds    float64 `json:"maxSeconds"`
	MedianBytes   float64 `json:"medianBytes"`
}

// Report is the whole run; it is also the JSON file.
type Report struct {
	Started  time.Time              `json:"started"`
	Finished time.Time              `json:"finished"`
	Settings map[string]interface{} `json:"settings"`
	Samples  []Sample               `json:"samples"`
	Proxies  []ProxyVerdict         `json:"proxies"`
	Profiles []ProfileSummary       `json:"profiles"`

	Requests     int            `json:"requests"`
	Errors       int            `json:"errors"`
	ErrorReasons map[string]int `json:"errorReasons"`
	ErrorSamples []ErrorSample  `json:"errorSamples,omitempty"` // the first ones
	Exited       []string       `json:"exited,omitempty"`       // processes that ended during the run
	Connections  map[string]int `json:"connectionsUsed"`        // that carried a scrape, per target
	APICalls     map[string]int `json:"apiCalls,omitempty"`     // answered by the fake API server in all

	Rule     string   `json:"rule"`
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`

	warmup   float64
	duration float64
	names    []string
}

func (s *soak) newReport() *Report {
	c := s.cfg
	protocol := "HTTP/2"
	if c.http1 {
		protocol = "HTTP/1.1"
	}
	r := &Report{
		Settings: map[string]interface{}{
			"targets":         c.targets,
			"intervalSeconds": c.interval.Seconds(),
			"cpuSeconds":      c.cpuSeconds,
			"protocol":        protocol,
			"durationSeconds": c.duration.Seconds(),
			"warmupSeconds":   c.warmup.Seconds(),
			"sampleSeconds":   c.sample.Seconds(),
			"timeoutSeconds":  c.timeout.Seconds(),
			"profiles":        parcaProfiles(c.cpuSeconds),
			"proxyBinary":     c.proxyBin,
			"proxyVersion":    proxyVersion(c.proxyBin),
			"cpus":            runtime.NumCPU(),
		},
		Rule:     ruleText,
		warmup:   c.warmup.Seconds(),
		duration: c.duration.Seconds(),
	}
	for _, t := range s.targets {
		r.names = append(r.names, t.name)
		r.Proxies = append(r.Proxies, ProxyVerdict{Name: t.name, PID: t.proxy.PID()})
	}
	return r
}

// load runs the scrapers for the duration, sampling every -sample, then lets the scrapes in
// flight finish and takes a last sample.
func (s *soak) load(r *Report) {
	c := s.cfg
	sc := newScraper(c, s.token)
	sc.start(s.targets, s.ca)
	r.Started = sc.started
	logf("load: %d targets × %d profile types every %v for %v (the first %v warm-up); samples every %v",
		c.targets, len(sc.profiles), c.interval, c.duration, c.warmup, c.sample)
	exited := map[*harness.Proc]bool{}
	progressEvery := int(time.Minute / c.sample)
	if progressEvery < 1 {
		progressEvery = 1
	}
	for i := 0; time.Duration(i)*c.sample <= c.duration; i++ {
		at := time.Duration(i) * c.sample
		time.Sleep(time.Until(sc.started.Add(at)))
		sample := s.takeSample(sc, at.Seconds(), r, exited)
		r.Samples = append(r.Samples, sample)
		if i%progressEvery == 0 {
			var figures []string
			for _, p := range sample.Proxies {
				figures = append(figures, fmt.Sprintf("%.1f MiB/%d fds", float64(p.RSSKiB)/1024, p.FDs))
			}
			logf("%s: %d requests, %d errors; %s", clock(sample.Seconds), sample.Requests, sample.Errors, strings.Join(figures, ", "))
		}
	}
	time.Sleep(time.Until(sc.started.Add(c.duration)))
	logf("%s: load over, waiting for the scrapes in flight", clock(c.duration.Seconds()))
	sc.finish()
	drained := s.takeSample(sc, time.Since(sc.started).Seconds(), r, exited)
	drained.Phase = "drained"
	r.Samples = append(r.Samples, drained)
	sc.closeConnections()
	r.Finished = time.Now()

	sc.mu.Lock()
	defer sc.mu.Unlock()
	r.Requests, r.Errors = sc.requests, sc.errors
	r.ErrorReasons = sc.reasons
	r.ErrorSamples = sc.errorList
	r.Connections = sc.connections
	r.APICalls = drained.APICalls
	for _, profile := range sc.profiles {
		summary := ProfileSummary{profileType: profile}
		if stats := sc.byProfile[profile.Name]; stats != nil {
			summary.Requests, summary.Errors = stats.requests, stats.errors
			summary.MedianSeconds, summary.MaxSeconds = median(stats.seconds), maxOf(stats.seconds)
			summary.MedianBytes = median(stats.bodyBytes)
		}
		r.Profiles = append(r.Profiles, summary)
	}
}

// takeSample reads every proxy's VmRSS and descriptors, the totals so far and the API calls, and
// notes every process that has exited.
func (s *soak) takeSample(sc *scraper, seconds float64, r *Report, exited map[*harness.Proc]bool) Sample {
	sample := Sample{Seconds: seconds}
	for _, t := range s.targets {
		p := ProxySample{Name: t.name}
		var err error
		if p.RSSKiB, err = harness.StatusKiB(t.proxy.PID(), "VmRSS"); err == nil {
			p.FDs, err = harness.OpenFDs(t.proxy.PID())
		}
		if err != nil {
			p.Error = err.Error()
		}
		sample.Proxies = append(sample.Proxies, p)
	}
	sample.Requests, sample.Errors = sc.counts()
	if calls, err := harness.APICalls(s.apiAddr, s.apiCA, s.caller); err == nil {
		sample.APICalls = calls
	}
	procs := []*harness.Proc{s.apiServer}
	for _, t := range s.targets {
		procs = append(procs, t.upstream, t.proxy)
	}
	for _, p := range procs {
		if p.Exited() && !exited[p] {
			exited[p] = true
			r.Exited = append(r.Exited, fmt.Sprintf("%s at %s: %v", p.Name, clock(seconds), p.Died()))
			logf("%v", p.Died())
		}
	}
	return sample
}

// judge marks the samples' phases, checks every proxy's flatness and decides.
func (r *Report) judge() {
	var after []int // indexes of the samples after the warm-up, while the load ran
	for i := range r.Samples {
		sample := &r.Samples[i]
		switch {
		case sample.Phase == "drained":
		case sample.Seconds < r.warmup:
			sample.Phase = "warm-up"
		default:
			sample.Phase = "middle"
			after = append(after, i)
		}
	}
	third := len(after) / 3
	if third == 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("only %d samples after the warm-up: nothing to compare", len(after)))
	} else {
		first, last := after[:third], after[len(after)-third:]
		for _, i := range first {
			r.Samples[i].Phase = "first third"
		}
		for _, i := range last {
			r.Samples[i].Phase = "last third"
		}
		for p := range r.Proxies {
			v := &r.Proxies[p]
			series := func(indexes []int) ([]int64, []int) {
				var rss []int64
				var fds []int
				for _, i := range indexes {
					figure := r.Samples[i].Proxies[p]
					if figure.Error != "" {
						continue
					}
					rss = append(rss, figure.RSSKiB)
					fds = append(fds, figure.FDs)
				}
				return rss, fds
			}
			firstRSS, firstFDs := series(first)
			lastRSS, lastFDs := series(last)
			if len(firstRSS) < third || len(lastRSS) < third {
				r.Failures = append(r.Failures, fmt.Sprintf("%s: /proc could not be read in some samples (did it exit?)", v.Name))
				continue
			}
			v.Samples = third
			v.FirstThird = [2]float64{r.Samples[first[0]].Seconds, r.Samples[first[len(first)-1]].Seconds}
			v.LastThird = [2]float64{r.Samples[last[0]].Seconds, r.Samples[last[len(last)-1]].Seconds}
			checkFlat(v, firstRSS, lastRSS, firstFDs, lastFDs)
			v.RSSMinKiB, v.RSSMaxKiB, v.FDsMin, v.FDsMax = -1, 0, -1, 0
			for _, sample := range r.Samples {
				figure := sample.Proxies[p]
				if figure.Error != "" {
					continue
				}
				if v.RSSMinKiB < 0 || figure.RSSKiB < v.RSSMinKiB {
					v.RSSMinKiB = figure.RSSKiB
				}
				if figure.RSSKiB > v.RSSMaxKiB {
					v.RSSMaxKiB = figure.RSSKiB
				}
				if v.FDsMin < 0 || figure.FDs < v.FDsMin {
					v.FDsMin = figure.FDs
				}
				if figure.FDs > v.FDsMax {
					v.FDsMax = figure.FDs
				}
			}
			if !v.RSSFlat {
				r.Failures = append(r.Failures, fmt.Sprintf("%s: RSS grew by %s (median %s → %s), more than the %s allowed",
					v.Name, mib(v.RSSGrowthKiB), mib(v.RSSFirstMedianKiB), mib(v.RSSLastMedianKiB), mib(v.RSSAllowedKiB)))
			}
			if !v.FDsFlat {
				r.Failures = append(r.Failures, fmt.Sprintf("%s: up to %d descriptors open in the last third, against at most %d in the first (+%d allowed)",
					v.Name, v.FDsLastMax, v.FDsFirstMax, fdSlack))
			}
		}
	}
	if r.Errors > 0 {
		var reasons []string
		for _, reason := range sortedByCount(r.ErrorReasons) {
			reasons = append(reasons, fmt.Sprintf("%d × %s", r.ErrorReasons[reason], reason))
		}
		r.Failures = append(r.Failures, fmt.Sprintf("%d of %d scrapes failed: %s", r.Errors, r.Requests, strings.Join(reasons, ", ")))
	}
	if r.Requests == 0 {
		r.Failures = append(r.Failures, "no scrape finished")
	}
	for _, exit := range r.Exited {
		r.Failures = append(r.Failures, strings.SplitN(exit, "\n", 2)[0])
	}
	r.Passed = len(r.Failures) == 0
}

// checkFlat applies the flatness rule to one proxy's figures in the first and last thirds.
func checkFlat(v *ProxyVerdict, firstRSS, lastRSS []int64, firstFDs, lastFDs []int) {
	v.RSSFirstMedianKiB, v.RSSLastMedianKiB = medianInt(firstRSS), medianInt(lastRSS)
	v.RSSGrowthKiB = v.RSSLastMedianKiB - v.RSSFirstMedianKiB
	v.RSSAllowedKiB = int64(float64(v.RSSFirstMedianKiB) * rssGrowthFraction)
	if v.RSSAllowedKiB < rssGrowthFloorKiB {
		v.RSSAllowedKiB = rssGrowthFloorKiB
	}
	v.RSSFlat = v.RSSGrowthKiB <= v.RSSAllowedKiB
	v.FDsFirstMax, v.FDsLastMax = maxInt(firstFDs), maxInt(lastFDs)
	v.FDsFlat = v.FDsLastMax <= v.FDsFirstMax+fdSlack
}

func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	n := len(sorted)
	if n%2 == 0 {
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return sorted[n/2]
}

func medianInt(values []int64) int64 {
	floats := make([]float64, len(values))
	for i, v := range values {
		floats[i] = float64(v)
	}
	return int64(median(floats))
}

func maxOf(values []float64) float64 {
	var m float64
	for _, v := range values {
		if v > m {
			m = v
		}
	}
	return m
}

func maxInt(values []int) int {
	m := 0
	for _, v := range values {
		if v > m {
			m = v
		}
	}
	return m
}

func sortedByCount(counts map[string]int) []string {
	var keys []string
	for key := range counts {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// clock is m:ss.
func clock(seconds float64) string {
	s := int(seconds + 0.5)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func human(seconds float64) string {
	return (time.Duration(seconds * float64(time.Second))).String()
}

func (r *Report) markdown() string {
	var b strings.Builder
	s := r.Settings
	fmt.Fprintf(&b, "## pprof-rbac-proxy soak, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	var profiles []string
	for _, p := range s["profiles"].([]profileType) {
		profiles = append(profiles, fmt.Sprintf("%s `%s`", p.Name, p.Path))
	}
	fmt.Fprintf(&b, "%d targets, each a pprof-server with its own proxy (%s, %v) in front of it, all in Kubernetes mode "+
		"against one fake API server, the auth caches at their defaults. Per target one keep-alive client over %v scrapes, "+
		"every %s (the targets staggered over it): %s. %s of load, the first %s warm-up; a sample every %s. %d CPUs.\n\n",
		s["targets"], s["proxyBinary"], s["proxyVersion"], s["protocol"], human(s["intervalSeconds"].(float64)),
		strings.Join(profiles, ", "), human(r.duration), human(r.warmup), human(s["sampleSeconds"].(float64)), s["cpus"])

	b.WriteString("| t | phase |")
	for _, name := range r.names {
		fmt.Fprintf(&b, " %s RSS MiB | %s fds |", name, name)
	}
	b.WriteString(" requests | errors | API calls (TokenReview + SAR) |\n|---:|---|")
	for range r.names {
		b.WriteString("---:|---:|")
	}
	b.WriteString("---:|---:|---:|\n")
	for _, sample := range r.Samples {
		phase := sample.Phase
		if phase == "middle" {
			phase = ""
		}
		fmt.Fprintf(&b, "| %s | %s |", clock(sample.Seconds), phase)
		for _, p := range sample.Proxies {
			if p.Error != "" {
				b.WriteString(" gone | gone |")
				continue
			}
			fmt.Fprintf(&b, " %.1f | %d |", float64(p.RSSKiB)/1024, p.FDs)
		}
		api := "—"
		if sample.APICalls != nil {
			api = fmt.Sprintf("%d + %d", sample.APICalls["tokenreviews"], sample.APICalls["subjectaccessreviews"])
		}
		fmt.Fprintf(&b, " %d | %d | %s |\n", sample.Requests, sample.Errors, api)
	}

	b.WriteString("\n| proxy | RSS median, first → last third | growth (allowed) | fds max, first → last third | RSS min–max, fds min–max (whole run) | flat? |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|\n")
	for _, v := range r.Proxies {
		if v.Samples == 0 {
			fmt.Fprintf(&b, "| %s | — | — | — | — | not compared |\n", v.Name)
			continue
		}
		verdict := "yes"
		switch {
		case !v.RSSFlat && !v.FDsFlat:
			verdict = "**no: RSS and fds grew**"
		case !v.RSSFlat:
			verdict = "**no: RSS grew**"
		case !v.FDsFlat:
			verdict = "**no: fds grew**"
		}
		growth := math.Round(float64(v.RSSGrowthKiB)/1024*10) / 10
		if growth == 0 {
			growth = 0 // not -0.0
		}
		fmt.Fprintf(&b, "| %s | %s → %s | %+.1f MiB (≤ %.1f) | %d → %d (≤ %d) | %.1f–%.1f MiB, %d–%d | %s |\n",
			v.Name, mib(v.RSSFirstMedianKiB), mib(v.RSSLastMedianKiB), growth, float64(v.RSSAllowedKiB)/1024,
			v.FDsFirstMax, v.FDsLastMax, v.FDsFirstMax+fdSlack, float64(v.RSSMinKiB)/1024, float64(v.RSSMaxKiB)/1024, v.FDsMin, v.FDsMax, verdict)
	}

	b.WriteString("\n| profile | path | scrapes | errors | median time | slowest | median size |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, p := range r.Profiles {
		fmt.Fprintf(&b, "| %s | `%s` | %d | %d | %.3f s | %.3f s | %.1f KiB |\n",
			p.Name, p.Path, p.Requests, p.Errors, p.MedianSeconds, p.MaxSeconds, p.MedianBytes/1024)
	}

	var connections []string
	for _, name := range r.names {
		connections = append(connections, fmt.Sprintf("%s %d", name, r.Connections[name]))
	}
	fmt.Fprintf(&b, "\nConnections that carried scrapes: %s.  \n", strings.Join(connections, ", "))
	if r.APICalls != nil {
		fmt.Fprintf(&b, "Kubernetes API calls in all: %d TokenReviews, %d SubjectAccessReviews (the proxies cache tokens for 2 min and allowed decisions for 5 min by default).  \n",
			r.APICalls["tokenreviews"], r.APICalls["subjectaccessreviews"])
	}
	if r.Errors > 0 {
		b.WriteString("\nFailed scrapes (the first ones):\n\n")
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(&b, "- %s %s %s: %s\n", clock(e.AtSeconds), e.Target, e.Profile, e.Detail)
		}
	}

	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\n**Verdict: %s**: %d scrapes, %d errors", verdict, r.Requests, r.Errors)
	if r.Passed {
		b.WriteString("; RSS and open descriptors flat on every proxy.\n")
	} else {
		b.WriteString(".\n\n")
		for _, failure := range r.Failures {
			b.WriteString("- " + failure + "\n")
		}
	}
	fmt.Fprintf(&b, "\nRule: %s\n", r.Rule)
	return b.String()
}
