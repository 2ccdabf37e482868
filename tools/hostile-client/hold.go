package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"
)

// holdConfig is what the hold subcommand was asked to do.
type holdConfig struct {
	target
	count     int
	handshake bool
	dribble   time.Duration
}

// holdReport is hold's JSON report.
type holdReport struct {
	Opened                     int       `json:"opened"`
	Failed                     int       `json:"failed"`
	FirstError                 string    `json:"firstError"`
	ClosedByServer             int       `json:"closedByServer"`
	ClosedByServerAfterSeconds []float64 `json:"closedByServerAfterSeconds"` // sorted, from each connection's TCP connect
}

// holdParallelism is how many connection attempts run at once.
const holdParallelism = 100

// slowlorisRequest is what -dribble sends a byte at a time; dribbleByte repeats its header lines
// forever, so the request never ends.
const (
	slowlorisRequest = "GET /debug/pprof/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	slowlorisHeader  = "X-Slowloris: 1\r\n"
)

// holdCommand parses hold's flags, opens the connections and holds them until stdin reaches EOF
// or SIGTERM (or SIGINT) arrives.
func holdCommand(args []string) (interface{}, error) {
	flags := flag.NewFlagSet("hold", flag.ContinueOnError)
	var cfg holdConfig
	cfg.target.register(flags)
	flags.IntVar(&cfg.count, "count", 1, "connections to open")
	flags.BoolVar(&cfg.handshake, "handshake", false, "with -tls, complete the TLS handshake on each connection (else: TCP only)")
	flags.DurationVar(&cfg.dribble, "dribble", 0, "send one byte of a never-ending request every this long on each connection (implies -handshake with -tls)")
	if err := parseFlags(flags, args); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	switch {
	case cfg.count < 1:
		return nil, errors.New("-count must be at least 1")
	case cfg.handshake && !cfg.useTLS:
		return nil, errors.New("-handshake needs -tls")
	case cfg.dribble < 0:
		return nil, errors.New("-dribble must not be negative")
	}
	release := make(chan struct{}, 2)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		release <- struct{}{}
	}()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-signals
		release <- struct{}{}
	}()
	return hold(cfg, os.Stdout, release), nil
}

// hold opens the connections, writes "holding OPENED FAILED" to out, and keeps them until
// release delivers; then it closes them and reports.
func hold(cfg holdConfig, out io.Writer, release <-chan struct{}) *holdReport {
	h := &holder{cfg: cfg, stop: make(chan struct{})}
	h.report.ClosedByServerAfterSeconds = []float64{}
	h.openAll()
	fmt.Fprintf(out, "holding %d %d\n", h.report.Opened, h.report.Failed)
	<-release
	h.closeAll()
	sort.Float64s(h.report.ClosedByServerAfterSeconds)
	return &h.report
}

// holder keeps the connections of one hold run.
type holder struct {
	cfg  holdConfig
	stop chan struct{} // closed when the connections are released

	mu        sync.Mutex
	report    holdReport
	conns     []net.Conn // the TCP connections
	releasing bool
}

// openAll makes -count connection attempts, holdParallelism at a time, and returns when all are done.
func (h *holder) openAll() {
	slots := make(chan struct{}, holdParallelism)
	var attempts sync.WaitGroup
	for i := 0; i < h.cfg.count; i++ {
		slots <- struct{}{}
		attempts.Add(1)
		go func() {
			defer attempts.Done()
			h.open()
			<-slots
		}()
	}
	attempts.Wait()
}

// open makes one connection attempt and, when it succeeds, starts watching (and dribbling on) it.
func (h *holder) open() {
	deadline := time.Now().Add(dialTimeout)
	raw, err := net.DialTimeout("tcp", h.cfg.addr, dialTimeout)
	if err != nil {
		h.failed(err)
		return
	}
	opened := time.Now()
	conn := raw
	if h.cfg.useTLS && (h.cfg.handshake || h.cfg.dribble > 0) {
		tlsConn := tls.Client(raw, h.cfg.tlsConfig())
		raw.SetDeadline(deadline)
		if err := tlsConn.Handshake(); err != nil {
			raw.Close()
			h.failed(err)
			return
		}
		raw.SetDeadline(time.Time{})
		conn = tlsConn
	}
	h.mu.Lock()
	h.report.Opened++
	h.conns = append(h.conns, raw)
	h.mu.Unlock()
	go h.watch(conn, raw, opened)
	if h.cfg.dribble > 0 {
		go h.dribbleOn(conn)
	}
}

// failed counts a failed attempt and keeps the first error.
func (h *holder) failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.report.Failed++
	if h.report.FirstError == "" {
		h.report.FirstError = err.Error()
	}
}

// watch reads conn until it fails, and counts that as a server close unless the connections are
// being released.
func (h *holder) watch(conn, raw net.Conn, opened time.Time) {
	buffer := make([]byte, 512)
	for {
		if _, err := conn.Read(buffer); err != nil {
			break
		}
	}
	raw.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.releasing {
		h.report.ClosedByServer++
		h.report.ClosedByServerAfterSeconds = append(h.report.ClosedByServerAfterSeconds, seconds(time.Since(opened)))
	}
}

// dribbleOn writes one byte of the slowloris request every -dribble until a write fails or the
// connections are released.
func (h *holder) dribbleOn(conn net.Conn) {
	ticker := time.NewTicker(h.cfg.dribble)
	defer ticker.Stop()
	for i := 0; ; i++ {
		select {
		case <-h.stop:
			return
		case <-ticker.C:
		}
		conn.SetWriteDeadline(time.Now().Add(dialTimeout))
		if _, err := conn.Write([]byte{dribbleByte(i)}); err != nil {
			return
		}
	}
}

// dribbleByte is byte i of the slowloris request followed by slowlorisHeader repeated.
func dribbleByte(i int) byte {
	if i < len(slowlorisRequest) {
		return slowlorisRequest[i]
	}
	return slowlorisHeader[(i-len(slowlorisRequest))%len(slowlorisHeader)]
}

// closeAll stops counting server closes and closes every connection.
func (h *holder) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.releasing = true
	close(h.stop)
	for _, conn := range h.conns {
		conn.Close()
	}
}
