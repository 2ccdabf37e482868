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

// fetch GETs url with the bearer token (none if empty) and reads the whole body.
func fetch(client *http.Client, url, token string) fetchResult {
	return fetchTraced(client, url, token, nil)
}

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

// scraper is the Parca-like client: per target one keep-alive http.Client, and per profile type
// a loop that scrapes every interval (a scrape that takes longer delays the next one, as in
// Prometheus and Parca: the next starts at once when its tick has passed, never overlapping).
type scraper struct {
	cfg        config
	token      string
	profiles   []profileType
	started    time.Time // the load's t = 0
	stop       chan struct{}
	wg         sync.WaitGroup
	transports []*http.Transport

	mu          sync.Mutex
	requests    int
	errors      int
	reasons     map[string]int
	errorList   []ErrorSample
	byProfile   map[string]*profileStats
	connections map[string]int  // connections that carried a scrape, per target
	connSeen    map[string]bool // their local addresses
}

// ErrorSample is one failed scrape.
type ErrorSample struct {
	AtSeconds float64 `json:"atSeconds"`
	Target    string  `json:"target"`
	Profile   string  `json:"profile"`
	Reason    string  `json:"reason"`
	Detail    string  `json:"detail"`
}

// maxErrorSamples bounds the failed scrapes kept in detail.
const maxErrorSamples = 20

type profileStats struct {
	requests  int
	errors    int
	seconds   []float64
	bodyBytes []float64
}

func newScraper(cfg config, token string) *scraper {
	return &scraper{
		cfg:         cfg,
		token:       token,
		profiles:    parcaProfiles(cfg.cpuSeconds),
		stop:        make(chan struct{}),
		reasons:     map[string]int{},
		byProfile:   map[string]*profileStats{},
		connections: map[string]int{},
		connSeen:    map[string]bool{},
	}
}

// start begins scraping every target; target i starts i/N of an interval after t = 0.
func (s *scraper) start(targets []*target, ca *x509.CertPool) {
	s.started = time.Now()
	for i, t := range targets {
		transport := newTransport(ca, !s.cfg.http1)
		s.transports = append(s.transports, transport)
		client := &http.Client{Transport: transport, Timeout: s.cfg.timeout}
		offset := s.cfg.interval * time.Duration(i) / time.Duration(len(targets))
		for _, profile := range s.profiles {
			s.wg.Add(1)
			go s.loop(client, t, profile, offset)
		}
	}
}

// finish stops new scrapes and waits for those in flight.
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

func (s *scraper) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

func (s *scraper) loop(client *http.Client, t *target, profile profileType, offset time.Duration) {
	defer s.wg.Done()
	first := time.NewTimer(offset)
	select {
	case <-s.stop:
		first.Stop()
		return
	case <-first.C:
	}
	ticker := time.NewTicker(s.cfg.interval)
	defer ticker.Stop()
	for !s.stopping() {
		s.scrape(client, t, profile)
		select {
		case <-s.stop:
		case <-ticker.C:
		}
	}
}

func (s *scraper) scrape(client *http.Client, t *target, profile profileType) {
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			local := info.Conn.LocalAddr().String()
			s.mu.Lock()
			if !s.connSeen[local] {
				s.connSeen[local] = true
				s.connections[t.name]++
			}
			s.mu.Unlock()
		},
	}
	began := time.Now()
	result := fetchTraced(client, "https://"+t.proxyAddr+profile.Path, s.token, trace)
	elapsed := time.Since(began).Seconds()
	wantProto := "HTTP/2.0"
	if s.cfg.http1 {
		wantProto = "HTTP/1.1"
	}
	reason, detail := checkProfile(result, wantProto)

	s.mu.Lock()
	defer s.mu.Unlock()
	stats := s.byProfile[profile.Name]
	if stats == nil {
		stats = &profileStats{}
		s.byProfile[profile.Name] = stats
	}
	s.requests++
	stats.requests++
	stats.seconds = append(stats.seconds, elapsed)
	if reason == "" {
		stats.bodyBytes = append(stats.bodyBytes, float64(len(result.body)))
		return
	}
	s.errors++
	stats.errors++
	s.reasons[reason]++
	if len(s.errorList) < maxErrorSamples {
		s.errorList = append(s.errorList, ErrorSample{
			AtSeconds: began.Sub(s.started).Seconds(), Target: t.name, Profile: profile.Name, Reason: reason, Detail: detail,
		})
	}
	if !interrupted.Load() {
		logf("error: %s %s after %.1fs: %s", t.name, profile.Path, elapsed, detail)
	}
}

// counts are the totals so far.
func (s *scraper) counts() (requests, errors int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.errors
}
