package main

import (
	"fmt"
	"runtime"
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
	Seconds  float64       `json:"seconds"` // since the load began
	Phase    string        `json:"phase"`   // warm-up, first third, middle, last third, drained
	Proxies  []ProxySample `json:"proxies"`
	Requests int           `json:"requests"` // finished scrapes so far
	Errors   int           `json:"errors"`   // failed scrapes so far
	// The person's captures so far (-person-every), finished and failed.
	PersonCaptures int            `json:"personCaptures"`
	PersonErrors   int            `json:"personErrors"`
	APICalls       map[string]int `json:"apiCalls,omitempty"`
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

// ProfileSummary is what one profile type's scrapes (or the person's captures) did.
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

	PersonCaptures     int            `json:"personCaptures"`
	PersonErrors       int            `json:"personErrors"`
	PersonErrorReasons map[string]int `json:"personErrorReasons"`
	PersonErrorSamples []ErrorSample  `json:"personErrorSamples,omitempty"` // the first ones

	// CPU time between the warm-up's end and the load's end (CPUWindowSeconds), per target and in
	// all; slice figures over the whole run.
	CPUWindowSeconds      float64       `json:"cpuWindowSeconds"`
	CPUSource             string        `json:"cpuSource"`
	Usage                 []TargetUsage `json:"usage"`
	UpstreamsCPUPerMinute float64       `json:"upstreamsCPUSecondsPerMinute"`
	ProxiesCPUPerMinute   float64       `json:"proxiesCPUSecondsPerMinute"`

	Exited      []string       `json:"exited,omitempty"`   // processes that ended during the run
	Connections map[string]int `json:"connectionsUsed"`    // that carried a scrape, per target
	APICalls    map[string]int `json:"apiCalls,omitempty"` // answered by the fake API server in all

	Rule     string   `json:"rule"`
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`

	warmup   float64
	duration float64
	person   bool // -person-every was given
	names    []string
}

// newReport is the report of the run about to start: its settings and the proxies to judge.
func (s *soak) newReport() *Report {
	c := s.cfg
	protocol := "HTTP/2"
	if c.http1 {
		protocol = "HTTP/1.1"
	}
	r := &Report{
		Settings: map[string]interface{}{
			"targets":              c.targets,
			"intervalSeconds":      c.interval.Seconds(),
			"cpuSeconds":           c.cpuSeconds,
			"protocol":             protocol,
			"durationSeconds":      c.duration.Seconds(),
			"warmupSeconds":        c.warmup.Seconds(),
			"sampleSeconds":        c.sample.Seconds(),
			"timeoutSeconds":       c.timeout.Seconds(),
			"profiles":             parcaProfiles(c.cpuSeconds),
			"personEverySeconds":   c.personEvery.Seconds(),
			"personProfile":        personProfile(c.personSeconds),
			"personTimeoutSeconds": c.personTimeout.Seconds(),
			"proxyFlags":           append([]string{}, c.proxyFlags...),
			"proxyBinary":          c.proxyBin,
			"proxyVersion":         proxyVersion(c.proxyBin),
			"cpus":                 runtime.NumCPU(),
		},
		CPUSource: cpuUnitText,
		Rule:      ruleText,
		warmup:    c.warmup.Seconds(),
		duration:  c.duration.Seconds(),
		person:    c.personEvery > 0,
	}
	for _, t := range s.targets {
		r.names = append(r.names, t.name)
		r.Proxies = append(r.Proxies, ProxyVerdict{Name: t.name, PID: t.proxy.PID()})
	}
	return r
}

// load runs the scrapers (and the person) for the duration, sampling every -sample and reading
// the processes' CPU time at the first sample after the warm-up and at the load's end, then lets
// the requests in flight finish, takes a last sample and reads the proxies' slice metrics.
func (s *soak) load(r *Report) {
	c := s.cfg
	sc := newScraper(c, s.token, s.personToken)
	sc.start(s.targets, s.ca)
	r.Started = sc.started
	logf("load: %d targets × %d profile types every %v for %v (the first %v warm-up); samples every %v",
		c.targets, len(sc.profiles), c.interval, c.duration, c.warmup, c.sample)
	if c.personEvery > 0 {
		logf("a person takes %s from every target every %v", personProfile(c.personSeconds).Path, c.personEvery)
	}
	exited := map[*harness.Proc]bool{}
	progressEvery := int(time.Minute / c.sample)
	if progressEvery < 1 {
		progressEvery = 1
	}
	var cpuStart cpuReading
	for i := 0; time.Duration(i)*c.sample <= c.duration; i++ {
		at := time.Duration(i) * c.sample
		time.Sleep(time.Until(sc.started.Add(at)))
		sample := s.takeSample(sc, at.Seconds(), r, exited)
		r.Samples = append(r.Samples, sample)
		if cpuStart.at.IsZero() && at >= c.warmup {
			cpuStart = s.readCPU()
		}
		if i%progressEvery == 0 {
			var figures []string
			for _, p := range sample.Proxies {
				figures = append(figures, fmt.Sprintf("%.1f MiB/%d fds", float64(p.RSSKiB)/1024, p.FDs))
			}
			logf("%s: %d requests, %d errors, %d person captures, %d failed; %s", clock(sample.Seconds),
				sample.Requests, sample.Errors, sample.PersonCaptures, sample.PersonErrors, strings.Join(figures, ", "))
		}
	}
	time.Sleep(time.Until(sc.started.Add(c.duration)))
	cpuEnd := s.readCPU()
	logf("%s: load over, waiting for the requests in flight", clock(c.duration.Seconds()))
	sc.finish()
	drained := s.takeSample(sc, time.Since(sc.started).Seconds(), r, exited)
	drained.Phase = "drained"
	r.Samples = append(r.Samples, drained)
	sc.closeConnections()
	s.collectUsage(r, cpuStart, cpuEnd)
	r.Finished = time.Now()

	sc.mu.Lock()
	defer sc.mu.Unlock()
	r.Requests, r.Errors, r.ErrorReasons, r.ErrorSamples = sc.scrapes.requests, sc.scrapes.errors, sc.scrapes.reasons, sc.scrapes.first
	r.PersonCaptures, r.PersonErrors = sc.persons.requests, sc.persons.errors
	r.PersonErrorReasons, r.PersonErrorSamples = sc.persons.reasons, sc.persons.first
	r.Connections = sc.connections
	r.APICalls = drained.APICalls
	profiles := sc.profiles
	if c.personEvery > 0 {
		profiles = append(profiles, personProfile(c.personSeconds))
	}
	for _, profile := range profiles {
		summary := ProfileSummary{profileType: profile}
		if stats := sc.byProfile[profile.Name]; stats != nil {
			summary.Requests, summary.Errors = stats.requests, stats.errors
			summary.MedianSeconds, summary.MaxSeconds = median(stats.seconds), maxOf(stats.seconds)
			summary.MedianBytes = median(stats.bodyBytes)
		}
		r.Profiles = append(r.Profiles, summary)
	}
}

// collectUsage fills in the CPU time between the two readings, per target and in all, and each
// proxy's slice metrics (not read from a proxy that has exited).
func (s *soak) collectUsage(r *Report, cpuStart, cpuEnd cpuReading) {
	exited := make([]bool, len(s.targets))
	for i, t := range s.targets {
		exited[i] = t.upstream.Exited() || t.proxy.Exited()
	}
	r.CPUWindowSeconds = cpuEnd.at.Sub(cpuStart.at).Seconds()
	r.Usage = cpuUsage(r.names, cpuStart, cpuEnd, exited)
	for i, t := range s.targets {
		u := &r.Usage[i]
		r.UpstreamsCPUPerMinute += u.UpstreamCPUPerMinute
		r.ProxiesCPUPerMinute += u.ProxyCPUPerMinute
		if t.proxy.Exited() {
			u.Slices.Error = "exited"
		} else {
			u.Slices = readSlices(t.metricsAddr, s.ca)
		}
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
	sample.Requests, sample.Errors, sample.PersonCaptures, sample.PersonErrors = sc.counts()
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
