package main

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"
)

// profileType is one of the profiles Parca scrapes from a Go program by default.
type profileType struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// parcaProfiles are Parca's default pprof scrape configs for Go; process_cpu's seconds are
// -cpu-seconds.
func parcaProfiles(cpuSeconds int) []profileType {
	return []profileType{
		{"process_cpu", fmt.Sprintf("/debug/pprof/profile?seconds=%d", cpuSeconds)},
		{"memory", "/debug/pprof/allocs"},
		{"block", "/debug/pprof/block"},
		{"mutex", "/debug/pprof/mutex"},
		{"goroutine", "/debug/pprof/goroutine"},
	}
}

// newTransport is a keep-alive transport trusting ca, like the one Parca scrapes with (Prometheus's
// HTTP client settings): HTTP/2 negotiated by ALPN when h2 is true, HTTP/1.1 only otherwise.
func newTransport(ca *x509.CertPool, h2 bool) *http.Transport {
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: ca},
		TLSHandshakeTimeout:   10 * time.Second,
		ForceAttemptHTTP2:     h2,
		DisableCompression:    true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10, // at least the five profile types, so HTTP/1.1 keeps a connection each
		IdleConnTimeout:       5 * time.Minute,
		ExpectContinueTimeout: time.Second,
	}
	if !h2 {
		transport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return transport
}

// fetchResult is one response, read to the end.
type fetchResult struct {
	status int
	proto  string
	body   []byte
	err    error
}

// maxBody bounds what is read of one response (profiles of pprof-server are kilobytes).
const maxBody = 64 << 20

// fetch GETs url with the bearer token (none if empty) and reads the whole body, all within the
// client's Timeout (http.Client's timeout covers the connection, the head and the body's last byte).
func fetch(client *http.Client, url, token string) fetchResult {
	return fetchTraced(client, url, token, nil)
}

// fetchTraced is fetch with an httptrace (nil: none) on the request.
func fetchTraced(client *http.Client, url, token string, trace *httptrace.ClientTrace) fetchResult {
	request, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return fetchResult{err: err}
	}
	if trace != nil {
		request = request.WithContext(httptrace.WithClientTrace(request.Context(), trace))
	}
	if token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	response, err := client.Do(request)
	if err != nil {
		return fetchResult{err: err}
	}
	defer response.Body.Close()
	body, err := io.ReadAll(io.LimitReader(response.Body, maxBody))
	return fetchResult{status: response.StatusCode, proto: response.Proto, body: body, err: err}
}

// checkProfile says what is wrong with a scrape's response ("" if nothing): the reason is short
// (it is counted), the detail says more.
func checkProfile(result fetchResult, wantProto string) (reason, detail string) {
	switch {
	case result.err != nil:
		return classify(result.err), result.err.Error()
	case result.status != http.StatusOK:
		first := strings.SplitN(strings.TrimSpace(string(result.body)), "\n", 2)[0]
		if len(first) > 200 {
			first = first[:200]
		}
		return fmt.Sprintf("status %d", result.status), fmt.Sprintf("status %d: %q", result.status, first)
	case wantProto != "" && result.proto != wantProto:
		return "protocol " + result.proto, fmt.Sprintf("negotiated %s, want %s", result.proto, wantProto)
	case len(result.body) == 0:
		return "empty body", "200 with an empty body"
	}
	reader, err := gzip.NewReader(bytes.NewReader(result.body))
	if err != nil {
		return "not gzip", fmt.Sprintf("%d bytes: %v", len(result.body), err)
	}
	n, err := io.Copy(io.Discard, reader)
	if err != nil {
		return "bad gzip", fmt.Sprintf("%d bytes, %d decompressed: %v", len(result.body), n, err)
	}
	if n == 0 {
		return "empty profile", fmt.Sprintf("%d bytes of gzip that hold nothing", len(result.body))
	}
	return "", ""
}

// classify names the kind of a transport error.
func classify(err error) string {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timeout"
	}
	text := err.Error()
	for _, kind := range []string{"connection refused", "connection reset", "broken pipe", "handshake", "timeout", "stream error", "GOAWAY", "EOF"} {
		if strings.Contains(text, kind) {
			return kind
		}
	}
	return "other"
}

// personProfile is the CPU profile the person takes.
func personProfile(seconds int) profileType {
	return profileType{"person_cpu", fmt.Sprintf("/debug/pprof/profile?seconds=%d", seconds)}
}

// tally counts one kind of request (scrapes, or the person's captures), its failures by reason,
// and keeps the first failures in detail.
type tally struct {
	requests int
	errors   int
	reasons  map[string]int
	first    []ErrorSample
}

// job is one loop of requests: one profile fetched by one client every `every`, the first at
// offset after t = 0. A fetch that takes longer than `every` delays the next one, which then
// starts at once: a job's requests never overlap.
type job struct {
	client    *http.Client
	target    *target
	profile   profileType
	token     string
	every     time.Duration
	offset    time.Duration
	wantProto string
	person    bool // the person's captures, not a scrape
}

// scraper is the Parca-like client: per target one keep-alive http.Client, and per profile type
// a job that scrapes every interval, as in Prometheus and Parca; with -person-every, per target
// also the person's job, on a client of its own.
type scraper struct {
	cfg         config
	token       string
	personToken string
	profiles    []profileType
	started     time.Time // the load's t = 0
	stop        chan struct{}
	wg          sync.WaitGroup
	transports  []*http.Transport

	mu          sync.Mutex
	scrapes     tally
	persons     tally
	byProfile   map[string]*profileStats
	connections map[string]int  // connections that carried a scrape, per target
	connSeen    map[string]bool // their local addresses
}

// ErrorSample is one failed scrape or person capture (Profile "person_cpu").
type ErrorSample struct {
	AtSeconds float64 `json:"atSeconds"`
	Target    string  `json:"target"`
	Profile   string  `json:"profile"`
	Reason    string  `json:"reason"`
	Detail    string  `json:"detail"`
}

// maxErrorSamples bounds the failures kept in detail, of each kind.
const maxErrorSamples = 20

// profileStats is what one profile type's requests did, over every target.
type profileStats struct {
	requests  int
	errors    int
	seconds   []float64
	bodyBytes []float64
}

// newScraper is a scraper that has not started.
func newScraper(cfg config, token, personToken string) *scraper {
	return &scraper{
		cfg:         cfg,
		token:       token,
		personToken: personToken,
		profiles:    parcaProfiles(cfg.cpuSeconds),
		stop:        make(chan struct{}),
		scrapes:     tally{reasons: map[string]int{}},
		persons:     tally{reasons: map[string]int{}},
		byProfile:   map[string]*profileStats{},
		connections: map[string]int{},
		connSeen:    map[string]bool{},
	}
}

// start begins scraping every target; target i starts i/N of an interval after t = 0, its person
// (with -person-every) a third of an interval later, so that the first capture arrives while a
// CPU scrape runs.
func (s *scraper) start(targets []*target, ca *x509.CertPool) {
	s.started = time.Now()
	wantProto := "HTTP/2.0"
	if s.cfg.http1 {
		wantProto = "HTTP/1.1"
	}
	for i, t := range targets {
		transport := newTransport(ca, !s.cfg.http1)
		s.transports = append(s.transports, transport)
		client := &http.Client{Transport: transport, Timeout: s.cfg.timeout}
		offset := s.cfg.interval * time.Duration(i) / time.Duration(len(targets))
		for _, profile := range s.profiles {
			s.run(job{client: client, target: t, profile: profile, token: s.token, every: s.cfg.interval, offset: offset, wantProto: wantProto})
		}
		if s.cfg.personEvery > 0 {
			// As go tool pprof fetches: HTTP/1.1 (its transport sets TLS options, so Go does
			// not offer h2) on a new connection each time.
			personTransport := newTransport(ca, false)
			personTransport.DisableKeepAlives = true
			s.transports = append(s.transports, personTransport)
			s.run(job{
				client: &http.Client{Transport: personTransport, Timeout: s.cfg.personTimeout}, target: t,
				profile: personProfile(s.cfg.personSeconds), token: s.personToken, every: s.cfg.personEvery,
				offset: offset + s.cfg.interval/3, wantProto: "HTTP/1.1", person: true,
			})
		}
	}
}

// run starts j's loop.
func (s *scraper) run(j job) {
	s.wg.Add(1)
	go s.loop(j)
}

// finish stops new requests and waits for those in flight.
func (s *scraper) finish() {
	close(s.stop)
	s.wg.Wait()
}

// closeConnections closes the clients' idle keep-alive connections.
func (s *scraper) closeConnections() {
	for _, transport := range s.transports {
		transport.CloseIdleConnections()
	}
}

// stopping says whether finish has been called.
func (s *scraper) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// loop fetches j's profile every j.every until finish.
func (s *scraper) loop(j job) {
	defer s.wg.Done()
	first := time.NewTimer(j.offset)
	select {
	case <-s.stop:
		first.Stop()
		return
	case <-first.C:
	}
	ticker := time.NewTicker(j.every)
	defer ticker.Stop()
	for !s.stopping() {
		s.fetchOnce(j)
		select {
		case <-s.stop:
		case <-ticker.C:
		}
	}
}

// fetchOnce makes one of j's requests and records it.
func (s *scraper) fetchOnce(j job) {
	var trace *httptrace.ClientTrace
	if !j.person {
		trace = &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				local := info.Conn.LocalAddr().String()
				s.mu.Lock()
				if !s.connSeen[local] {
					s.connSeen[local] = true
					s.connections[j.target.name]++
				}
				s.mu.Unlock()
			},
		}
	}
	began := time.Now()
	result := fetchTraced(j.client, "https://"+j.target.proxyAddr+j.profile.Path, j.token, trace)
	elapsed := time.Since(began).Seconds()
	reason, detail := checkProfile(result, j.wantProto)

	s.mu.Lock()
	defer s.mu.Unlock()
	stats := s.byProfile[j.profile.Name]
	if stats == nil {
		stats = &profileStats{}
		s.byProfile[j.profile.Name] = stats
	}
	counts := &s.scrapes
	if j.person {
		counts = &s.persons
	}
	counts.requests++
	stats.requests++
	stats.seconds = append(stats.seconds, elapsed)
	if reason == "" {
		stats.bodyBytes = append(stats.bodyBytes, float64(len(result.body)))
		return
	}
	counts.errors++
	stats.errors++
	counts.reasons[reason]++
	if len(counts.first) < maxErrorSamples {
		counts.first = append(counts.first, ErrorSample{
			AtSeconds: began.Sub(s.started).Seconds(), Target: j.target.name, Profile: j.profile.Name, Reason: reason, Detail: detail,
		})
	}
	if !interrupted.Load() {
		logf("error: %s %s after %.1fs: %s", j.target.name, j.profile.Path, elapsed, detail)
	}
}

// counts are the totals so far: scrapes, failed scrapes, person captures, failed person captures.
func (s *scraper) counts() (requests, errors, persons, personErrors int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scrapes.requests, s.scrapes.errors, s.persons.requests, s.persons.errors
}
