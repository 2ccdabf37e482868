package main

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Go 1.19's standard library keeps its HTTP/2 framer to itself, so frames are made and read here
// (RFC 9113): a 9-byte header (length, type, flags, stream) and the payload.

// Frame types.
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePushPromise  = 0x5
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9
)

// Frame flags.
const (
	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8
	flagPriority   = 0x20
)

// Settings.
const (
	settingEnablePush           = 0x2
	settingMaxConcurrentStreams = 0x3
	settingInitialWindowSize    = 0x4
	settingMaxFrameSize         = 0x5
	settingMaxHeaderListSize    = 0x6
)

// Error codes sent.
const codeCancel = 0x8

// clientPreface starts every HTTP/2 connection.
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// defaultMaxFrameSize is SETTINGS_MAX_FRAME_SIZE until the server says otherwise.
const defaultMaxFrameSize = 16384

// h2WriteTimeout bounds every write, so a server that stops reading cannot block the client.
const h2WriteTimeout = 2 * time.Second

// frameNames are the frame types' names, by type.
var frameNames = []string{"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"}

// errorCodeNames are the error codes' names, by code.
var errorCodeNames = []string{"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
	"FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"}

// frameName names a frame type, UNKNOWN_0xNN for extensions.
func frameName(frameType byte) string {
	if int(frameType) < len(frameNames) {
		return frameNames[frameType]
	}
	return fmt.Sprintf("UNKNOWN_0x%02x", frameType)
}

// errorCodeName names an error code, 0xNN for unknown ones.
func errorCodeName(code uint32) string {
	if code < uint32(len(errorCodeNames)) {
		return errorCodeNames[code]
	}
	return fmt.Sprintf("0x%x", code)
}

// appendFrame appends one frame to b.
func appendFrame(b []byte, frameType, flags byte, stream uint32, payload []byte) []byte {
	n := len(payload)
	b = append(b, byte(n>>16), byte(n>>8), byte(n), frameType, flags)
	b = binary.BigEndian.AppendUint32(b, stream&0x7fffffff)
	return append(b, payload...)
}

// uint32Payload is a 4-byte payload (RST_STREAM's error code, WINDOW_UPDATE's increment).
func uint32Payload(v uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, v)
}

// setting is one SETTINGS parameter.
type setting struct {
	id    uint16
	value uint32
}

// settingsPayload encodes settings.
func settingsPayload(settings ...setting) []byte {
	var payload []byte
	for _, s := range settings {
		payload = binary.BigEndian.AppendUint16(payload, s.id)
		payload = binary.BigEndian.AppendUint32(payload, s.value)
	}
	return payload
}

// goAwayReport is the GOAWAY the server sent.
type goAwayReport struct {
	Code         string `json:"code"`
	LastStreamID uint32 `json:"lastStreamID"`
	Debug        string `json:"debug"`
}

// h2Conn is an HTTP/2 client connection: one goroutine at a time writes (under writeMu, every
// write with a deadline), one reads frames and keeps the counts.
type h2Conn struct {
	conn   *tls.Conn
	reader *bufio.Reader

	// Set before reading starts.
	answerPings   bool // ACK the server's PINGs
	windowUpdates bool // give back the flow-control window of every DATA frame received

	writeMu    sync.Mutex
	framesSent int
	bytesSent  int
	writeErr   error // the first failed write
	nextStream uint32

	mu                   sync.Mutex
	framesReceived       map[string]int
	resets               map[string]int
	statuses             map[string]int
	goAway               *goAwayReport
	maxConcurrentStreams *uint32
	maxFrameSize         uint32
	maxHeaderListSize    *uint32
	lastFrame            time.Time
	readEnded            string // how reading ended: eof, reset, error, or closed (by us)
	closing              bool
	decoder              *hpackDecoder
	pendingBlock         []byte          // a header block waiting for CONTINUATION frames
	pendingIsResponse    bool            // whether pendingBlock is a HEADERS block (else PUSH_PROMISE)
	endedStreams         map[uint32]bool // streams the server has ended (END_STREAM or RST_STREAM)
	streamsChanged       chan struct{}   // closed and replaced whenever endedStreams grows

	gotSettings  chan struct{} // closed at the server's first SETTINGS
	settingsOnce sync.Once
	stopped      chan struct{} // closed at GOAWAY or when reading ends
	stopOnce     sync.Once
	readerDone   chan struct{} // closed when readLoop returns
}

// dialH2 connects with TLS and ALPN h2 and fails unless the server selects h2.
func dialH2(addr string) (*h2Conn, error) {
	dialer := &net.Dialer{Timeout: dialTimeout}
	config := &tls.Config{InsecureSkipVerify: true, ServerName: hostOf(addr), NextProtos: []string{"h2"}}
	conn, err := tls.DialWithDialer(dialer, "tcp", addr, config)
	if err != nil {
		return nil, err
	}
	if protocol := conn.ConnectionState().NegotiatedProtocol; protocol != "h2" {
		conn.Close()
		return nil, fmt.Errorf("the server selected ALPN %q, not h2", protocol)
	}
	return &h2Conn{
		conn:           conn,
		reader:         bufio.NewReaderSize(conn, 64*1024),
		nextStream:     1,
		framesReceived: map[string]int{},
		resets:         map[string]int{},
		statuses:       map[string]int{},
		endedStreams:   map[uint32]bool{},
		streamsChanged: make(chan struct{}),
		maxFrameSize:   defaultMaxFrameSize,
		decoder:        newHPACKDecoder(),
		gotSettings:    make(chan struct{}),
		stopped:        make(chan struct{}),
		readerDone:     make(chan struct{}),
	}, nil
}

// start sends the client preface, a SETTINGS frame with settings and then prelude's frames, in one write.
func (c *h2Conn) start(prelude []byte, settings ...setting) error {
	b := appendFrame([]byte(clientPreface), frameSettings, 0, 0, settingsPayload(settings...))
	return c.write(1, append(b, prelude...))
}

// write sends b, which holds frames frames, in one write call with a deadline; the first error
// is kept.
func (c *h2Conn) write(frames int, b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.writeErr != nil {
		return c.writeErr
	}
	c.conn.SetWriteDeadline(time.Now().Add(h2WriteTimeout))
	n, err := c.conn.Write(b)
	c.bytesSent += n
	if err != nil {
		c.writeErr = err
		return err
	}
	c.framesSent += frames
	return nil
}

// newStream returns the next client stream ID.
func (c *h2Conn) newStream() uint32 {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	id := c.nextStream
	c.nextStream += 2
	return id
}

// readFrame reads the next frame.
func (c *h2Conn) readFrame() (frameType, flags byte, stream uint32, payload []byte, err error) {
	var header [9]byte
	if _, err = io.ReadFull(c.reader, header[:]); err != nil {
		return
	}
	length := int(header[0])<<16 | int(header[1])<<8 | int(header[2])
	payload = make([]byte, length)
	if _, err = io.ReadFull(c.reader, payload); err != nil {
		return
	}
	return header[3], header[4], binary.BigEndian.Uint32(header[5:]) & 0x7fffffff, payload, nil
}

// readLoop handles frames until the connection fails or is closed.
func (c *h2Conn) readLoop() {
	defer close(c.readerDone)
	for {
		frameType, flags, stream, payload, err := c.readFrame()
		if err != nil {
			c.endReading(err)
			return
		}
		c.handle(frameType, flags, stream, payload)
	}
}

// readUntilSettings handles frames in the calling goroutine until the server's SETTINGS arrives,
// giving up after dialTimeout.
func (c *h2Conn) readUntilSettings() error {
	c.conn.SetReadDeadline(time.Now().Add(dialTimeout))
	defer c.conn.SetReadDeadline(time.Time{})
	for {
		select {
		case <-c.gotSettings:
			return nil
		default:
		}
		frameType, flags, stream, payload, err := c.readFrame()
		if err != nil {
			return fmt.Errorf("no SETTINGS from the server: %w", err)
		}
		c.handle(frameType, flags, stream, payload)
	}
}

// waitSettings waits until the reading goroutine has seen the server's SETTINGS.
func (c *h2Conn) waitSettings() error {
	select {
	case <-c.gotSettings:
		return nil
	case <-c.readerDone:
		return fmt.Errorf("no SETTINGS from the server: reading ended (%s)", c.readEnd())
	case <-time.After(dialTimeout):
		return errors.New("no SETTINGS from the server within " + dialTimeout.String())
	}
}

// endReading records how reading ended and stops the attack.
func (c *h2Conn) endReading(err error) {
	c.mu.Lock()
	if c.closing {
		c.readEnded = "closed"
	} else {
		c.readEnded = endReason(err)
		if c.readEnded == "error" {
			fmt.Fprintf(os.Stderr, "read: %v\n", err)
		}
	}
	c.mu.Unlock()
	c.stop()
}

// stop tells the attack that the server ended the connection.
func (c *h2Conn) stop() {
	c.stopOnce.Do(func() { close(c.stopped) })
}

// handle counts one received frame and reacts to it as a client must (or as the attack wants).
func (c *h2Conn) handle(frameType, flags byte, stream uint32, payload []byte) {
	c.mu.Lock()
	c.framesReceived[frameName(frameType)]++
	c.lastFrame = time.Now()
	c.mu.Unlock()
	switch frameType {
	case frameSettings:
		if flags&flagAck == 0 {
			c.applySettings(payload)
			c.write(1, appendFrame(nil, frameSettings, flagAck, 0, nil))
			c.settingsOnce.Do(func() { close(c.gotSettings) })
		}
	case framePing:
		if flags&flagAck == 0 && c.answerPings {
			c.write(1, appendFrame(nil, framePing, flagAck, 0, payload))
		}
	case frameGoAway:
		c.recordGoAway(payload)
		c.stop()
	case frameRSTStream:
		c.mu.Lock()
		c.resets[resetCode(payload)]++
		c.mu.Unlock()
	case frameHeaders, framePushPromise, frameContinuation:
		c.headerFragment(frameType, flags, payload)
	case frameData:
		if c.windowUpdates && len(payload) > 0 {
			c.giveBackWindow(stream, flags&flagEndStream != 0, uint32(len(payload)))
		}
	}
	if frameEndsStream(frameType, flags, stream) {
		c.streamEnded(stream)
	}
}

// applySettings records the server's SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_MAX_FRAME_SIZE and
// SETTINGS_MAX_HEADER_LIST_SIZE.
func (c *h2Conn) applySettings(payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ; len(payload) >= 6; payload = payload[6:] {
		value := binary.BigEndian.Uint32(payload[2:])
		switch binary.BigEndian.Uint16(payload) {
		case settingMaxConcurrentStreams:
			c.maxConcurrentStreams = &value
		case settingMaxFrameSize:
			c.maxFrameSize = value
		case settingMaxHeaderListSize:
			c.maxHeaderListSize = &value
		}
	}
}

// recordGoAway keeps the last GOAWAY received.
func (c *h2Conn) recordGoAway(payload []byte) {
	if len(payload) < 8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.goAway = &goAwayReport{
		Code:         errorCodeName(binary.BigEndian.Uint32(payload[4:])),
		LastStreamID: binary.BigEndian.Uint32(payload) & 0x7fffffff,
		Debug:        string(payload[8:]),
	}
}

// headerFragment collects a header block from HEADERS or PUSH_PROMISE and its CONTINUATION
// frames, and decodes it once complete (a promise's block only keeps the decoder in step).
func (c *h2Conn) headerFragment(frameType, flags byte, payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if frameType != frameContinuation {
		fragment, ok := headerBlockFragment(frameType, flags, payload)
		if !ok {
			c.statuses["undecodable"]++
			c.decoder.broken = true
			return
		}
		c.pendingBlock = append([]byte(nil), fragment...)
		c.pendingIsResponse = frameType == frameHeaders
	} else {
		c.pendingBlock = append(c.pendingBlock, payload...)
	}
	if flags&flagEndHeaders == 0 {
		return
	}
	fields, err := c.decoder.decode(c.pendingBlock)
	c.pendingBlock = nil
	if !c.pendingIsResponse {
		return
	}
	if err != nil {
		c.statuses["undecodable"]++
		return
	}
	for _, field := range fields {
		if field.name == ":status" {
			c.statuses[field.value]++ // trailers, without :status, are not counted
			return
		}
	}
}

// headerBlockFragment strips the padding, priority and promised stream fields from a HEADERS or
// PUSH_PROMISE payload.
func headerBlockFragment(frameType, flags byte, payload []byte) ([]byte, bool) {
	padding := 0
	if flags&flagPadded != 0 {
		if len(payload) < 1 {
			return nil, false
		}
		padding, payload = int(payload[0]), payload[1:]
	}
	skip := 0
	switch {
	case frameType == framePushPromise:
		skip = 4
	case flags&flagPriority != 0:
		skip = 5
	}
	if len(payload) < skip+padding {
		return nil, false
	}
	return payload[skip : len(payload)-padding], true
}

// giveBackWindow sends the WINDOW_UPDATE frames that reopen the n bytes of flow-control window a
// DATA frame used: the connection's, and the stream's unless the stream has ended.
func (c *h2Conn) giveBackWindow(stream uint32, ended bool, n uint32) {
	b := appendFrame(nil, frameWindowUpdate, 0, 0, uint32Payload(n))
	frames := 1
	if !ended {
		b = appendFrame(b, frameWindowUpdate, 0, stream, uint32Payload(n))
		frames++
	}
	c.write(frames, b)
}

// sawGoAway reports whether the server has sent GOAWAY.
func (c *h2Conn) sawGoAway() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.goAway != nil
}

// readEnd is how reading ended, "" while it goes on.
func (c *h2Conn) readEnd() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readEnded
}

// idleSince is the last frame received, or since if that is later.
func (c *h2Conn) idleSince(since time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastFrame.After(since) {
		return c.lastFrame
	}
	return since
}

// close closes the connection and waits for the reading goroutine.
func (c *h2Conn) close() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.conn.NetConn().Close()
	<-c.readerDone
}
