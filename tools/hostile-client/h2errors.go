package main

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// The attacks of RFC 9113 §5.1 and §5.4 (the h2spec cases a server gets wrong most often) and
// large header blocks. The connection-error attacks first finish one request on stream 1, so that
// the GOAWAY's last-stream-id has something to name (1, not 0 or 2^31-1).

// streamEndTimeout bounds the wait for the first request's response.
const streamEndTimeout = 10 * time.Second

// finishFirstRequest sends a GET on a new stream (END_STREAM) and waits until its response has
// ended, so that the stream is closed on both sides.
func finishFirstRequest(c *h2Conn, cfg h2Config) (uint32, attackEnd) {
	stream := c.newStream()
	if c.write(1, appendFrame(nil, frameHeaders, flagEndStream|flagEndHeaders, stream, requestBlock(cfg))) != nil {
		return stream, endWriteFailed
	}
	if !c.waitStreamEnd(stream, streamEndTimeout) {
		return stream, endServer
	}
	return stream, endDuration
}

// afterFirstRequest finishes one request, then sends the frame offending makes for its stream and
// waits for -duration or the server ending the connection.
func afterFirstRequest(c *h2Conn, cfg h2Config, offending func(stream uint32) []byte) attackEnd {
	stream, end := finishFirstRequest(c, cfg)
	if end != endDuration {
		return end
	}
	if c.write(1, offending(stream)) != nil {
		return endWriteFailed
	}
	return c.hold(cfg.duration)
}

// pingBadLength sends, after one request, a PING whose payload is 6 bytes instead of 8 (§6.7: a
// connection error FRAME_SIZE_ERROR).
func pingBadLength(c *h2Conn, cfg h2Config) attackEnd {
	return afterFirstRequest(c, cfg, func(uint32) []byte { return appendFrame(nil, framePing, 0, 0, make([]byte, 6)) })
}

// pingOnStream sends, after one request, a PING on that request's stream instead of stream 0
// (§6.7: a connection error PROTOCOL_ERROR).
func pingOnStream(c *h2Conn, cfg h2Config) attackEnd {
	return afterFirstRequest(c, cfg, func(stream uint32) []byte { return appendFrame(nil, framePing, 0, stream, make([]byte, 8)) })
}

// headersOnClosed sends a second request HEADERS on the stream of a request that has ended on
// both sides (§5.1 closed: a connection error STREAM_CLOSED).
func headersOnClosed(c *h2Conn, cfg h2Config) attackEnd {
	return afterFirstRequest(c, cfg, func(stream uint32) []byte {
		return appendFrame(nil, frameHeaders, flagEndStream|flagEndHeaders, stream, requestBlock(cfg))
	})
}

// headersAfterReset opens a request without ending it, resets it (CANCEL), then sends HEADERS on
// it again (§5.1 closed, after RST_STREAM: STREAM_CLOSED).
func headersAfterReset(c *h2Conn, cfg h2Config) attackEnd {
	stream := c.newStream()
	b := appendFrame(nil, frameHeaders, flagEndHeaders, stream, requestBlock(cfg))
	b = appendFrame(b, frameRSTStream, 0, stream, uint32Payload(codeCancel))
	b = appendFrame(b, frameHeaders, flagEndStream|flagEndHeaders, stream, requestBlock(cfg))
	if c.write(3, b) != nil {
		return endWriteFailed
	}
	return c.hold(cfg.duration)
}

// headersOnHalfClosed sends a request twice on one stream: the second HEADERS arrives while the
// stream is half-closed (remote), the first request still being answered (§5.1: a stream error
// STREAM_CLOSED). Give it a -path that is slow to answer. Then one more request, on a new stream,
// shows whether the connection still serves.
func headersOnHalfClosed(c *h2Conn, cfg h2Config) attackEnd {
	stream := c.newStream()
	block := requestBlock(cfg)
	b := appendFrame(nil, frameHeaders, flagEndStream|flagEndHeaders, stream, block)
	b = appendFrame(b, frameHeaders, flagEndStream|flagEndHeaders, stream, block)
	if c.write(2, b) != nil {
		return endWriteFailed
	}
	if !c.waitStreamEnd(stream, streamEndTimeout) {
		return endServer
	}
	next := c.newStream()
	quick := requestBlock(h2Config{addr: cfg.addr, token: cfg.token, path: "/debug/pprof/cmdline"})
	if c.write(1, appendFrame(nil, frameHeaders, flagEndStream|flagEndHeaders, next, quick)) != nil {
		return endWriteFailed
	}
	if !c.waitStreamEnd(next, streamEndTimeout) {
		return endServer
	}
	return endDuration
}

// largeHeadersPrelude is the large-headers request, sent in the same write as the preface (before
// the server's SETTINGS can be acknowledged, as curl does): a GET of -path on stream 1 whose header
// block carries -header-bytes bytes of values in -fields fields, split into HEADERS and CONTINUATION
// frames of at most -fragment bytes; then an ordinary GET of /debug/pprof/cmdline on stream 3.
func largeHeadersPrelude(c *h2Conn, cfg h2Config) []byte {
	block := requestBlock(cfg)
	fields := cfg.fields
	if fields < 1 {
		fields = 1
	}
	for i := 0; i < fields; i++ {
		size := cfg.headerBytes / fields
		if i < cfg.headerBytes%fields {
			size++
		}
		block = appendLiteral(block, fmt.Sprintf("x-large-%04d", i), strings.Repeat("a", size))
	}
	b := appendHeaderBlock(nil, c.newStream(), block, cfg.fragment)
	quick := requestBlock(h2Config{addr: cfg.addr, token: cfg.token, path: "/debug/pprof/cmdline"})
	return appendFrame(b, frameHeaders, flagEndStream|flagEndHeaders, c.newStream(), quick)
}

// largeHeaders waits for both requests' responses (or the server ending the connection).
func largeHeaders(c *h2Conn, cfg h2Config) attackEnd {
	deadline := time.Now().Add(streamEndTimeout)
	for _, stream := range []uint32{1, 3} {
		if !c.waitStreamEnd(stream, time.Until(deadline)) {
			return endServer
		}
	}
	return endDuration
}

// appendHeaderBlock appends block as a request (END_STREAM) on stream: one HEADERS frame if it
// fits in fragment bytes, else HEADERS and CONTINUATION frames of fragment bytes each.
func appendHeaderBlock(b []byte, stream uint32, block []byte, fragment int) []byte {
	if fragment <= 0 {
		fragment = defaultMaxFrameSize
	}
	frameType := byte(frameHeaders)
	flags := byte(flagEndStream)
	for {
		n := len(block)
		if n > fragment {
			n = fragment
		}
		if n == len(block) {
			flags |= flagEndHeaders
		}
		b = appendFrame(b, frameType, flags, stream, block[:n])
		block = block[n:]
		if len(block) == 0 {
			return b
		}
		frameType, flags = frameContinuation, 0
	}
}

// waitStreamEnd waits until the server has ended stream (END_STREAM or RST_STREAM), reading has
// ended, or timeout has passed; it reports whether the stream ended.
func (c *h2Conn) waitStreamEnd(stream uint32, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		ended, changed := c.endedStreams[stream], c.streamsChanged
		c.mu.Unlock()
		if ended {
			return true
		}
		select {
		case <-changed:
		case <-c.readerDone:
			return false
		case <-deadline:
			return false
		}
	}
}

// streamEnded records that the server ended stream and wakes waitStreamEnd.
func (c *h2Conn) streamEnded(stream uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endedStreams[stream] = true
	close(c.streamsChanged)
	c.streamsChanged = make(chan struct{})
}

// frameEndsStream reports whether a frame from the server ends its stream.
func frameEndsStream(frameType, flags byte, stream uint32) bool {
	switch frameType {
	case frameRSTStream:
		return stream != 0
	case frameHeaders, frameData:
		return flags&flagEndStream != 0
	}
	return false
}

// resetCode is the error code of a RST_STREAM payload.
func resetCode(payload []byte) string {
	if len(payload) < 4 {
		return "short"
	}
	return errorCodeName(binary.BigEndian.Uint32(payload))
}
