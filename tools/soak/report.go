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

