package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// newServer starts an HTTPS test server answering /forbidden with 403, /chunked with a chunked
// "chunky", and anything else with "hello"; configure adjusts it before it starts.
func newServer(t *testing.T, configure func(*httptest.Server)) *httptest.Server {
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/forbidden":
			http.Error(w, "no", http.StatusForbidden)
		case "/chunked":
			w.Write([]byte("chu"))
			w.(http.Flusher).Flush()
			w.Write([]byte("nky"))
		default:
			w.Write([]byte("hello"))
		}
	}))
	server.Config.ErrorLog = log.New(io.Discard, "", 0)
	configure(server)
	server.StartTLS()
	t.Cleanup(server.Close)
	return server
}

// addrOf is a test server's host:port.
func addrOf(server *httptest.Server) string {
	return strings.TrimPrefix(server.URL, "https://")
}

func TestRawParsesPipelinedResponses(t *testing.T) {
	t.Parallel()
	server := newServer(t, func(*httptest.Server) {})
	request := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /forbidden HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	report, err := runRaw(rawConfig{target: target{addr: addrOf(server), useTLS: true, alpn: "http/1.1"},
		request: []byte(request), chunkSize: 1, readTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if report.Ended != "eof" || !report.AllSent || report.BytesSent != len(request) || report.HandshakeError != "" {
		t.Fatalf("report %+v", report)
	}
	var got []string
	for _, response := range report.Responses {
		got = append(got, fmt.Sprintf("%d %q %v", response.Status, response.Body, response.Headers["transfer-encoding"]))
	}
	want := []string{`200 "hello" []`, `200 "chunky" [chunked]`, `403 "no\n" []`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("responses %q, want %q (received %q)", got, want, report.Received)
	}
}

func TestRawDribbleIsCutOffByReadHeaderTimeout(t *testing.T) {
	t.Parallel()
	server := newServer(t, func(server *httptest.Server) { server.Config.ReadHeaderTimeout = 300 * time.Millisecond })
	request := []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaa\r\n\r\n")
	report, err := runRaw(rawConfig{target: target{addr: addrOf(server), useTLS: true},
		request: request, dribble: 20 * time.Millisecond, chunkSize: 1, readTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if report.AllSent || report.BytesSent >= len(request) || (report.Ended != "eof" && report.Ended != "reset") {
		t.Fatalf("report %+v", report)
	}
}

func TestRawClosesEarly(t *testing.T) {
	t.Parallel()
	server := newServer(t, func(*httptest.Server) {})
	request := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	cfg := rawConfig{target: target{addr: addrOf(server), useTLS: true}, request: request, chunkSize: 1,
		readTimeout: 5 * time.Second, closeAfterBytes: 12}
	report, err := runRaw(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if report.Ended != "client-closed" || report.Received != "HTTP/1.1 200" || len(report.Responses) != 0 {
		t.Fatalf("close-after-bytes: report %+v", report)
	}
	cfg.closeAfterBytes, cfg.closeAfterSend = 0, true
	if report, err = runRaw(cfg); err != nil {
		t.Fatal(err)
	}
	if report.Ended != "client-closed" || !report.AllSent {
		t.Fatalf("close-after-send: report %+v", report)
	}
}

func TestRawReportsHandshakeFailure(t *testing.T) {
	t.Parallel()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	report, err := runRaw(rawConfig{target: target{addr: listener.Addr().String(), useTLS: true},
		request: []byte("GET / HTTP/1.1\r\n\r\n"), chunkSize: 1, readTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if report.HandshakeError == "" || (report.Ended != "eof" && report.Ended != "reset") || report.AllSent {
		t.Fatalf("report %+v", report)
	}
}

func TestParseResponses(t *testing.T) {
	data := "HTTP/1.1 100 Continue\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n3\r\nabc\r\n0\r\nTrailer: t\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\n\r\n" +
		"HTTP/1.0 502 Bad Gateway\r\n\r\nto the end"
	statuses := func(responses []httpResponse) string {
		var parts []string
		for _, response := range responses {
			parts = append(parts, fmt.Sprintf("%d:%s", response.Status, response.Body))
		}
		return strings.Join(parts, " ")
	}
	if got := statuses(parseResponses([]byte(data), true)); got != "100: 200:abc 204: 502:to the end" {
		t.Fatalf("closed: %q", got)
	}
	if got := statuses(parseResponses([]byte(data), false)); got != "100: 200:abc 204:" {
		t.Fatalf("not closed: %q", got)
	}
	if got := parseResponses([]byte(data), true)[1].Headers["x-a"]; !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Fatalf("x-a: %q", got)
	}
	if got := statuses(parseResponses([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"), true)); got != "" {
		t.Fatalf("truncated: %q", got)
	}
}

// closingListener accepts connections and closes every second one after closeAfter.
func closingListener(t *testing.T, closeAfter time.Duration) string {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		var kept []net.Conn
		defer func() {
			for _, conn := range kept {
				conn.Close()
			}
		}()
		for i := 0; ; i++ {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			if i%2 == 0 {
				time.AfterFunc(closeAfter, func() { conn.Close() })
			} else {
				kept = append(kept, conn)
			}
		}
	}()
	return listener.Addr().String()
}

func TestHoldCountsServerCloses(t *testing.T) {
	t.Parallel()
	addr := closingListener(t, 100*time.Millisecond)
	release := make(chan struct{})
	time.AfterFunc(500*time.Millisecond, func() { close(release) })
	var out bytes.Buffer
	report := hold(holdConfig{target: target{addr: addr}, count: 4}, &out, release)
	if out.String() != "holding 4 0\n" {
		t.Fatalf("output %q", out.String())
	}
	if report.Opened != 4 || report.Failed != 0 || report.ClosedByServer != 2 || len(report.ClosedByServerAfterSeconds) != 2 {
		t.Fatalf("report %+v", report)
	}
	for _, after := range report.ClosedByServerAfterSeconds {
		if after < 0.05 || after > 0.4 {
			t.Fatalf("closed after %v s", after)
		}
	}
}

func TestHoldDribblesUntilReadHeaderTimeout(t *testing.T) {
	t.Parallel()
	server := newServer(t, func(server *httptest.Server) { server.Config.ReadHeaderTimeout = 200 * time.Millisecond })
	release := make(chan struct{})
	time.AfterFunc(800*time.Millisecond, func() { close(release) })
	cfg := holdConfig{target: target{addr: addrOf(server), useTLS: true, alpn: "http/1.1"}, count: 3, handshake: true, dribble: 20 * time.Millisecond}
	report := hold(cfg, &bytes.Buffer{}, release)
	if report.Opened != 3 || report.ClosedByServer != 3 {
		t.Fatalf("report %+v", report)
	}
}

func TestHoldReportsFailures(t *testing.T) {
	t.Parallel()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	listener.Close()
	release := make(chan struct{})
	close(release)
	var out bytes.Buffer
	report := hold(holdConfig{target: target{addr: addr}, count: 3}, &out, release)
	if out.String() != "holding 0 3\n" || report.Failed != 3 || report.FirstError == "" || report.ClosedByServerAfterSeconds == nil {
		t.Fatalf("output %q, report %+v", out.String(), report)
	}
}

// newH2Server is newServer with HTTP/2 enabled.
func newH2Server(t *testing.T) string {
	return addrOf(newServer(t, func(server *httptest.Server) { server.EnableHTTP2 = true }))
}

func TestH2Requests(t *testing.T) {
	t.Parallel()
	addr := newH2Server(t)
	report, err := runH2(h2Config{addr: addr, attack: "stream-limit", path: "/", duration: 200 * time.Millisecond, count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(report.Statuses, map[string]int{"200": 1}) || report.StreamsOpened != 1 || report.Ended != "duration" ||
		report.FramesReceived["SETTINGS"] == 0 || report.ServerMaxConcurrentStreams == nil || report.ServerMaxFrameSize == 0 {
		t.Fatalf("report %+v", report)
	}
	// Three 403s: the later ones refer to the server's dynamic table.
	report, err = runH2(h2Config{addr: addr, attack: "stream-limit", path: "/forbidden", token: "t", duration: 200 * time.Millisecond, count: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(report.Statuses, map[string]int{"403": 3}) {
		t.Fatalf("report %+v", report)
	}
}

func TestH2Attacks(t *testing.T) {
	addr := newH2Server(t)
	for _, attack := range []string{"rapid-reset", "ping-flood", "settings-flood", "window-update-flood", "continuation-flood", "zero-window"} {
		attack := attack
		t.Run(attack, func(t *testing.T) {
			t.Parallel()
			report, err := runH2(h2Config{addr: addr, attack: attack, path: "/", duration: 300 * time.Millisecond, count: 2})
			if err != nil {
				t.Fatal(err)
			}
			if report.Attack != attack || report.FramesSent == 0 || report.BytesSent == 0 || report.Ended == "" || report.FramesReceived["SETTINGS"] == 0 {
				t.Fatalf("report %+v", report)
			}
			t.Logf("%+v goAway=%+v", report, report.GoAway)
		})
	}
}

func TestH2OversizedFrame(t *testing.T) {
	t.Parallel()
	report, err := runH2(h2Config{addr: newH2Server(t), attack: "oversized-frame", path: "/", duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if report.GoAway == nil || report.GoAway.Code != "FRAME_SIZE_ERROR" || report.Ended != "goaway" {
		t.Fatalf("report %+v, goAway %+v", report, report.GoAway)
	}
}

func TestOversizedHeadersLength(t *testing.T) {
	for _, size := range []int{16385, 16512, 16513, 16514, 16515, 1 << 20} {
		frame := oversizedHeaders(1, requestBlock(h2Config{addr: "a:1", path: "/"}), size)
		if length := int(frame[0])<<16 | int(frame[1])<<8 | int(frame[2]); length != size || len(frame) != size+9 {
			t.Fatalf("size %d: frame length %d, %d bytes", size, length, len(frame))
		}
	}
}

// TestHPACKDecoder decodes RFC 7541 C.6: responses with Huffman coding and evictions from a
// 256-byte table.
func TestHPACKDecoder(t *testing.T) {
	decoder := newHPACKDecoder()
	decoder.maxSize = 256
	blocks := []string{
		"488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
		"4883640effc1c0bf",
		"88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
	}
	want := []string{
		":status=302 cache-control=private date=Mon, 21 Oct 2013 20:13:21 GMT location=https://www.example.com",
		":status=307 cache-control=private date=Mon, 21 Oct 2013 20:13:21 GMT location=https://www.example.com",
		":status=200 cache-control=private date=Mon, 21 Oct 2013 20:13:22 GMT location=https://www.example.com content-encoding=gzip set-cookie=foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
	}
	for i, block := range blocks {
		raw, err := hex.DecodeString(block)
		if err != nil {
			t.Fatal(err)
		}
		fields, err := decoder.decode(raw)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		var parts []string
		for _, field := range fields {
			parts = append(parts, field.name+"="+field.value)
		}
		if got := strings.Join(parts, " "); got != want[i] {
			t.Fatalf("block %d: %q, want %q", i, got, want[i])
		}
	}
	if _, err := decoder.decode([]byte{0xff, 0xff}); err == nil {
		t.Fatal("a truncated index decoded")
	}
	if _, err := decoder.decode([]byte{0x88}); err == nil {
		t.Fatal("the decoder went on after an undecodable block")
	}
}

// TestH2ProtocolErrors runs the RFC 9113 §5.1 and §6.7 cases against Go's HTTP/2 server, which
// ends each with a GOAWAY naming stream 1 and then closes (Go 1.19 says PROTOCOL_ERROR where §5.1
// says STREAM_CLOSED).
func TestH2ProtocolErrors(t *testing.T) {
	addr := newH2Server(t)
	for attack, code := range map[string]string{
		"ping-bad-length": "FRAME_SIZE_ERROR", "ping-on-stream": "PROTOCOL_ERROR",
		"headers-on-closed": "PROTOCOL_ERROR", "headers-after-reset": "PROTOCOL_ERROR",
	} {
		attack, code := attack, code
		t.Run(attack, func(t *testing.T) {
			t.Parallel()
			report, err := runH2(h2Config{addr: addr, attack: attack, path: "/", duration: 3 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if report.GoAway == nil || report.GoAway.Code != code || report.GoAway.LastStreamID != 1 || !report.ClosedByServer {
				t.Fatalf("report %+v, goAway %+v", report, report.GoAway)
			}
		})
	}
}

// TestH2LargeHeaders sends a 100 kB head in HEADERS and CONTINUATION frames with the preface,
// then a small request: Go's server (1 MiB MaxHeaderBytes) answers both.
func TestH2LargeHeaders(t *testing.T) {
	t.Parallel()
	report, err := runH2(h2Config{addr: newH2Server(t), attack: "large-headers", path: "/", headerBytes: 100_000, fields: 3,
		fragment: defaultMaxFrameSize, duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(report.Statuses, map[string]int{"200": 2}) || report.GoAway != nil || report.ServerMaxHeaderListSize == nil {
		t.Fatalf("report %+v, goAway %+v", report, report.GoAway)
	}
}

func TestAppendHeaderBlock(t *testing.T) {
	block := bytes.Repeat([]byte{'a'}, 40_000)
	frames := appendHeaderBlock(nil, 1, block, 16_384)
	var types, flags []byte
	var payload []byte
	for len(frames) > 0 {
		n := int(frames[0])<<16 | int(frames[1])<<8 | int(frames[2])
		types, flags = append(types, frames[3]), append(flags, frames[4])
		payload = append(payload, frames[9:9+n]...)
		frames = frames[9+n:]
	}
	if !bytes.Equal(payload, block) || !bytes.Equal(types, []byte{frameHeaders, frameContinuation, frameContinuation}) ||
		!bytes.Equal(flags, []byte{flagEndStream, 0, flagEndHeaders}) {
		t.Fatalf("types %v flags %v, %d bytes", types, flags, len(payload))
	}
}
