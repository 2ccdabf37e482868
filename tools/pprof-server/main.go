// Command pprof-server serves net/http/pprof on loopback the way controller-runtime does
// (a private ServeMux, no method restrictions) and records every request it receives so that
// end-to-end tests can check what an authorizing proxy forwarded.
//
// Control endpoints (never proxied, outside /debug/pprof/):
//
//	GET  /control/requests  JSON array of recorded requests, in arrival order
//	POST /control/reset     forget all recorded requests
//	POST /control/cpu-profile?answer=garbage
//	                        from now on /debug/pprof/profile answers 200 with bytes that are not
//	                        a profile, at once (answer=real: net/http/pprof's again)
//
// Extra test endpoints, recorded like the others:
//
//	/debug/pprof/stream?bytes=N     N bytes, flushed every 64 KiB (with &duration=D, paced evenly
//	                                over D, like a trace)
//	/debug/pprof/hangup             closes the connection without a response
//	/debug/pprof/reset?after=N      resets the TCP connection (SO_LINGER 0, so the client reads
//	                                ECONNRESET): at once (N = 0, the default), or after a 200 head
//	                                and one chunk of N body bytes, once the client has them
//	/debug/pprof/truncate?bytes=N   a 200 whose body stops after N bytes, flushed, then the
//	                                connection closes: &framing=chunked (the default) without the
//	                                terminating chunk, &framing=length with Content-Length 2N
//	/debug/pprof/slow-head?delay=D  a small 200 after D (Go syntax, default 5s); stops at once if
//	                                the client leaves first (recorded client-gone)
//
// hangup, reset and truncate end their records "aborted". Over HTTP/2, where the connection cannot
// be hijacked, reset and truncate send the same head and bytes and then reset the stream.
//
// -record=false turns the recording and the per-request line off (for benchmarks).
//
// Transports: plain HTTP/1.1 by default; HTTPS with -tls-cert and -tls-key (client certificates
// required and verified with -client-ca, the control endpoints included); HTTP/2 with prior
// knowledge over cleartext (h2c) beside HTTP/1.1 on the same port with -h2c (see h2c.go).
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Ways a recorded request can end.
const (
	endedRunning    = "running"
	endedDone       = "done"
	endedClientGone = "client-gone"
	// endedAborted: the handler aborted the connection on purpose (see serveHangup).
	endedAborted = "aborted"
)

// requestRecord is what the server remembers about one request.
type requestRecord struct {
	ID              int                 `json:"id"`
	Method          string              `json:"method"`
	Path            string              `json:"path"`
	RawPath         string              `json:"rawPath"`
	RawQuery        string              `json:"rawQuery"`
	Proto           string              `json:"proto"`
	Host            string              `json:"host"`
	RemoteAddr      string              `json:"remoteAddr"` // the client's address: one per upstream connection
	ClientCN        string              `json:"clientCN"`   // the verified client certificate's CN (-client-ca), else empty
	Headers         map[string][]string `json:"headers"`
	Ended           string              `json:"ended"` // running, done, client-gone or aborted
	Status          int                 `json:"status"`
	Bytes           int64               `json:"bytes"`
	Start           time.Time           `json:"start"`
	End             *time.Time          `json:"end,omitempty"`
	DurationSeconds float64             `json:"durationSeconds"`
}

// recorder keeps the records of all requests outside /control/.
type recorder struct {
	mu      sync.Mutex
	nextID  int
	records []*requestRecord
}

// begin stores a new running record for r and returns it.
func (rec *recorder) begin(r *http.Request) *requestRecord {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.nextID++
	clientCN := ""
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		clientCN = r.TLS.VerifiedChains[0][0].Subject.CommonName
	}
	record := &requestRecord{
		ID:         rec.nextID,
		Method:     r.Method,
		Path:       r.URL.Path,
		RawPath:    r.URL.RawPath,
		RawQuery:   r.URL.RawQuery,
		Proto:      r.Proto,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		ClientCN:   clientCN,
		Headers:    r.Header.Clone(),
		Ended:      endedRunning,
		Start:      time.Now(),
	}
	rec.records = append(rec.records, record)
	return record
}

// finish marks record as ended and prints one summary line.
func (rec *recorder) finish(record *requestRecord, ended string, status int, bytes int64) {
	rec.mu.Lock()
	end := time.Now()
	record.Ended = ended
	record.Status = status
	record.Bytes = bytes
	record.End = &end
	record.DurationSeconds = end.Sub(record.Start).Seconds()
	line := fmt.Sprintf("request method=%s path=%s ended=%s status=%d bytes=%d duration=%.2fs",
		record.Method, record.Path, ended, status, bytes, record.DurationSeconds)
	rec.mu.Unlock()
	fmt.Println(line)
}

// snapshot returns copies of all records, safe to encode while requests are still running.
func (rec *recorder) snapshot() []requestRecord {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	copies := make([]requestRecord, 0, len(rec.records))
	for _, record := range rec.records {
		copies = append(copies, *record)
	}
	return copies
}

func (rec *recorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.records = nil
}

// wrap records every request outside /control/ and how it ended.
func (rec *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/control/") {
			next.ServeHTTP(w, r)
			return
		}
		record := rec.begin(r)
		writer := &statusWriter{ResponseWriter: w}
		defer func() {
			// The server cancels the request context when the client goes away; checked before
			// the handler's return lets the server cancel it for its own reasons.
			ended := endedDone
			if r.Context().Err() != nil {
				ended = endedClientGone
			}
			aborted := recover()
			if aborted != nil {
				ended = endedAborted
			}
			status := writer.status
			if status == 0 && aborted == nil {
				status = http.StatusOK
			}
			rec.finish(record, ended, status, writer.bytes)
			if aborted != nil {
				panic(aborted)
			}
		}()
		next.ServeHTTP(writer, r)
	})
}

func (rec *recorder) serveRequests(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(rec.snapshot()); err != nil {
		log.Printf("encoding records: %v", err)
	}
}

func (rec *recorder) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	rec.reset()
	w.WriteHeader(http.StatusNoContent)
}

// statusWriter remembers the status code and body size, and keeps http.Flusher working.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if flusher, ok := w.ResponseWriter.(http.Flusher); ok {
		flusher.Flush()
	}
}

// Hijack hands over an HTTP/1.x connection; an HTTP/2 stream cannot be hijacked. What the handler
// writes on the connection afterwards is not seen here (see noteHijackedResponse).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hijacker, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hijacker.Hijack()
}

// noteHijackedResponse records the status and body size of a response a handler wrote itself on
// a hijacked connection.
func noteHijackedResponse(w http.ResponseWriter, status int, bytes int64) {
	if writer, ok := w.(*statusWriter); ok {
		writer.status, writer.bytes = status, bytes
	}
}

// streamChunkSize is both the write size and the flush interval of /debug/pprof/stream.
const streamChunkSize = 64 << 10

// filler is the body the test endpoints send, 64 KiB of "abc...z" repeated; never written to.
var filler = func() []byte {
	chunk := make([]byte, streamChunkSize)
	for i := range chunk {
		chunk[i] = byte('a' + i%26)
	}
	return chunk
}()

// serveStream writes ?bytes=N bytes, chunked and flushed every 64 KiB; it stops when the client goes.
// With ?duration=D (Go syntax, e.g. 10s) the chunks are paced evenly over D, the way a trace
// arrives: the header is flushed at once and chunk k of n leaves (k+1)·D/n after the start, so the
// last byte goes out after D.
func serveStream(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	remaining, err := strconv.ParseInt(query.Get("bytes"), 10, 64)
	if err != nil || remaining < 0 {
		http.Error(w, "bytes must be a non-negative integer", http.StatusBadRequest)
		return
	}
	var duration time.Duration
	if value := query.Get("duration"); value != "" {
		if duration, err = time.ParseDuration(value); err != nil || duration < 0 {
			http.Error(w, "duration must be a non-negative Go duration such as 10s", http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	flusher, _ := w.(http.Flusher)
	start := time.Now()
	chunks := (remaining + streamChunkSize - 1) / streamChunkSize
	if duration > 0 {
		w.WriteHeader(http.StatusOK)
		if flusher != nil {
			flusher.Flush()
		}
	}
	for sent := int64(0); remaining > 0; sent++ {
		if duration > 0 {
			due := start.Add(time.Duration(float64(duration) * float64(sent+1) / float64(chunks)))
			if wait := time.Until(due); wait > 0 {
				timer := time.NewTimer(wait)
				select {
				case <-timer.C:
				case <-r.Context().Done():
					timer.Stop()
					return
				}
			}
		}
		size := int64(len(filler))
		if remaining < size {
			size = remaining
		}
		if _, err := w.Write(filler[:size]); err != nil {
			return
		}
		remaining -= size
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// serveHangup closes the connection without writing any response, the way an upstream that hits
// its WriteTimeout behaves; a proxy must answer 502, never 200.
func serveHangup(w http.ResponseWriter, r *http.Request) {
	panic(http.ErrAbortHandler)
}

// queryInt returns the integer query parameter name, or fallback when it is absent.
func queryInt(r *http.Request, name string, fallback int64) (int64, error) {
	text := r.URL.Query().Get(name)
	if text == "" {
		return fallback, nil
	}
	return strconv.ParseInt(text, 10, 64)
}

// writeFiller writes n bytes of filler to w in 64 KiB writes, calling flush after each.
func writeFiller(w io.Writer, n int64, flush func()) error {
	for n > 0 {
		size := int64(len(filler))
		if n < size {
			size = n
		}
		if _, err := w.Write(filler[:size]); err != nil {
			return err
		}
		flush()
		n -= size
	}
	return nil
}

// sendThenAbort sends the head (status 200, the headers set so far) and n > 0 body bytes, flushed,
// then aborts the response: over HTTP/1.x the server closes the connection before the body is
// complete, over HTTP/2 it resets the stream.
func sendThenAbort(w http.ResponseWriter, n int64) {
	flusher, _ := w.(http.Flusher)
	w.WriteHeader(http.StatusOK)
	_ = writeFiller(w, n, func() {
		if flusher != nil {
			flusher.Flush()
		}
	})
	panic(http.ErrAbortHandler)
}

// serveConnectionReset resets the TCP connection (SO_LINGER 0), so the client reads ECONNRESET:
// with ?after=0 (the default) before any response, with ?after=N after a 200 head and one chunk
// of N body bytes, written on the hijacked connection. Over HTTP/2 it sends the same, through the
// stream, and resets the stream.
func serveConnectionReset(w http.ResponseWriter, r *http.Request) {
	after, err := queryInt(r, "after", 0)
	if err != nil || after < 0 {
		http.Error(w, "after must be a non-negative integer", http.StatusBadRequest)
		return
	}
	hijacker, ok := w.(http.Hijacker)
	if !ok || r.ProtoMajor != 1 {
		if after > 0 {
			w.Header().Set("Content-Type", "application/octet-stream")
			sendThenAbort(w, after)
		}
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hijacker.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if after > 0 && writeHeadAndChunk(conn, after) == nil {
		noteHijackedResponse(w, http.StatusOK, after)
	}
	resetConn(conn)
	panic(http.ErrAbortHandler)
}

// writeHeadAndChunk writes a chunked 200 head and one complete chunk of n bytes, nothing after it.
func writeHeadAndChunk(conn net.Conn, n int64) error {
	writer := bufio.NewWriter(conn)
	fmt.Fprintf(writer, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", n)
	if err := writeFiller(writer, n, func() {}); err != nil {
		return err
	}
	writer.WriteString("\r\n")
	return writer.Flush()
}

// resetConn closes conn's TCP connection with SO_LINGER 0, so the peer gets an RST instead of a
// FIN (and no TLS close_notify). Such a close drops what the kernel still holds for the peer, so
// it first waits for what was written to be delivered (see waitForDelivery).
func resetConn(conn net.Conn) {
	tcpConn, ok := underlyingTCP(conn)
	if !ok {
		_ = conn.Close()
		return
	}
	waitForDelivery(tcpConn)
	_ = tcpConn.SetLinger(0)
	_ = tcpConn.Close()
}

// underlyingTCP returns the TCP connection under conn's TLS or h2c-sniffing layer.
func underlyingTCP(conn net.Conn) (*net.TCPConn, bool) {
	for {
		switch wrapped := conn.(type) {
		case *tls.Conn:
			conn = wrapped.NetConn()
		case *sniffedConn:
			conn = wrapped.Conn
		default:
			tcpConn, ok := conn.(*net.TCPConn)
			return tcpConn, ok
		}
	}
}

// deliveryTimeout bounds how long /debug/pprof/reset waits for a client to take its bytes.
const deliveryTimeout = 5 * time.Second

// waitForDelivery waits until the peer has acknowledged everything written on conn. It gives up
// after deliveryTimeout (a client that stopped reading) or at once where the send queue cannot be
// measured (systems other than Linux and macOS).
func waitForDelivery(conn *net.TCPConn) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return
	}
	for deadline := time.Now().Add(deliveryTimeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		queued, queueErr := 0, error(nil)
		if err := raw.Control(func(fd uintptr) { queued, queueErr = queuedBytes(fd) }); err != nil || queueErr != nil || queued == 0 {
			return
		}
	}
}

// serveTruncate sends a 200 whose body ends early: ?bytes=N (N > 0) bytes, flushed, then the
// connection is closed. &framing=chunked (the default) sends them as chunks without the
// terminating zero chunk; &framing=length declares Content-Length 2N.
func serveTruncate(w http.ResponseWriter, r *http.Request) {
	n, err := queryInt(r, "bytes", 0)
	if err != nil || n <= 0 {
		http.Error(w, "bytes must be a positive integer", http.StatusBadRequest)
		return
	}
	switch r.URL.Query().Get("framing") {
	case "", "chunked":
	case "length":
		w.Header().Set("Content-Length", strconv.FormatInt(2*n, 10))
	default:
		http.Error(w, "framing must be chunked or length", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	sendThenAbort(w, n)
}

// slowHeadDelay is how long /debug/pprof/slow-head waits without ?delay.
const slowHeadDelay = 5 * time.Second

// serveSlowHead answers a small 200 after ?delay=D (Go syntax, default 5s), or stops at once when
// the client goes away first.
func serveSlowHead(w http.ResponseWriter, r *http.Request) {
	delay := slowHeadDelay
	if text := r.URL.Query().Get("delay"); text != "" {
		var err error
		if delay, err = time.ParseDuration(text); err != nil || delay < 0 {
			http.Error(w, "delay must be a non-negative Go duration such as 5s", http.StatusBadRequest)
			return
		}
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "slow head\n")
}

// spinSink keeps the busy loop from being optimized away.
var spinSink int

// capturing counts the CPU profiles and traces running now; the background load burns CPU only then,
// unless steady.
var capturing int32

// garbageCPUProfiles is 1 while /debug/pprof/profile answers with bytes that are not a profile.
var garbageCPUProfiles int32

// cpuProfile is net/http/pprof's Profile, or garbage while /control/cpu-profile says so.
func cpuProfile(w http.ResponseWriter, r *http.Request) {
	if atomic.LoadInt32(&garbageCPUProfiles) == 1 {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte("\x1f\x8b not a profile at all"))
		return
	}
	pprof.Profile(w, r)
}

// serveCPUProfileAnswer switches /debug/pprof/profile between real profiles and garbage.
func serveCPUProfileAnswer(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Query().Get("answer") {
	case "garbage":
		atomic.StoreInt32(&garbageCPUProfiles, 1)
	case "real":
		atomic.StoreInt32(&garbageCPUProfiles, 0)
	default:
		http.Error(w, "answer=garbage or answer=real", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// whileCapturing marks handler's requests as captures for backgroundLoad.
func whileCapturing(handler http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt32(&capturing, 1)
		defer atomic.AddInt32(&capturing, -1)
		handler(w, r)
	}
}

// backgroundLoad burns about 1 ms of CPU every 50 ms while a CPU profile or trace runs (so they
// have samples), or all the time when steady (-steady-load), and keeps a rolling ~1 MiB of live allocations
// (so heap profiles have data). Light on purpose: the end-to-end suite runs dozens of copies of
// this program at once on two cores, and idle copies must not add up to a busy machine.
func backgroundLoad(steady bool) {
	var retained [][]byte
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for range ticker.C {
		deadline := time.Now().Add(time.Millisecond)
		for (steady || atomic.LoadInt32(&capturing) > 0) && time.Now().Before(deadline) {
			for i := 0; i < 1000; i++ {
				spinSink += i * i
			}
		}
		retained = append(retained, make([]byte, 16<<10))
		if len(retained) > 64 {
			retained = retained[1:]
		}
	}
}

// serverOptions are the command-line flags.
type serverOptions struct {
	addr     string
	tlsCert  string
	tlsKey   string
	clientCA string
	h2c      bool
	record   bool
	steady   bool
}

func parseOptions() (serverOptions, error) {
	var options serverOptions
	flag.StringVar(&options.addr, "addr", "127.0.0.1:0", "address to listen on")
	flag.StringVar(&options.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain); needs -tls-key")
	flag.StringVar(&options.tlsKey, "tls-key", "", "the PEM private key of -tls-cert")
	flag.StringVar(&options.clientCA, "client-ca", "", "require client certificates signed by this PEM CA bundle (needs -tls-cert)")
	flag.BoolVar(&options.h2c, "h2c", false, "serve HTTP/2 with prior knowledge over cleartext beside HTTP/1.1 on the same port")
	flag.BoolVar(&options.record, "record", true, "record every request and print one line per finished request (false: neither, for benchmarks)")
	flag.BoolVar(&options.steady, "steady-load", false, "burn the background load all the time, not only while a CPU profile or trace runs (the soak compares CPU time at the same load)")
	flag.Parse()
	switch {
	case (options.tlsCert == "") != (options.tlsKey == ""):
		return options, fmt.Errorf("-tls-cert and -tls-key must be given together")
	case options.clientCA != "" && options.tlsCert == "":
		return options, fmt.Errorf("-client-ca needs -tls-cert and -tls-key")
	case options.h2c && options.tlsCert != "":
		return options, fmt.Errorf("-h2c is cleartext: it cannot be combined with -tls-cert")
	}
	return options, nil
}

// clientAuthentication is the TLS configuration that requires and verifies client certificates
// signed by the CAs in caFile.
func clientAuthentication(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate found", caFile)
	}
	return &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}, nil
}

// routes registers net/http/pprof, the test endpoints and rec's control endpoints.
func routes(rec *recorder) *http.ServeMux {
	mux := http.NewServeMux()
	// The registration controller-runtime's PprofBindAddress uses.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", whileCapturing(cpuProfile))
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", whileCapturing(pprof.Trace))
	mux.HandleFunc("/debug/pprof/stream", serveStream)
	mux.HandleFunc("/debug/pprof/hangup", serveHangup)
	mux.HandleFunc("/debug/pprof/reset", serveConnectionReset)
	mux.HandleFunc("/debug/pprof/truncate", serveTruncate)
	mux.HandleFunc("/debug/pprof/slow-head", serveSlowHead)
	mux.HandleFunc("/control/requests", rec.serveRequests)
	mux.HandleFunc("/control/reset", rec.serveReset)
	mux.HandleFunc("/control/cpu-profile", serveCPUProfileAnswer)
	return mux
}

func exit(err error) {
	fmt.Fprintf(os.Stderr, "pprof-server: %v\n", err)
	os.Exit(1)
}

func main() {
	options, err := parseOptions()
	if err != nil {
		exit(err)
	}

	listener, err := net.Listen("tcp", options.addr)
	if err != nil {
		exit(err)
	}

	rec := &recorder{}
	mux := routes(rec)
	var handler http.Handler = mux
	if options.record {
		handler = rec.wrap(mux)
	}
	// controller-runtime's pprof server settings: no read or write timeout.
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 32 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    1 << 20,
	}
	if options.clientCA != "" {
		if server.TLSConfig, err = clientAuthentication(options.clientCA); err != nil {
			exit(err)
		}
	}

	go backgroundLoad(options.steady)

	// os.Stdout is unbuffered, so the line is visible to a reading parent at once.
	fmt.Printf("listening on %s\n", listener.Addr())
	switch {
	case options.tlsCert != "":
		err = server.ServeTLS(listener, options.tlsCert, options.tlsKey)
	case options.h2c:
		err = serveH2C(server, listener)
	default:
		err = server.Serve(listener)
	}
	exit(err)
}
