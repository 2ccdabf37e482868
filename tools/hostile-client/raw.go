package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rawConfig is what the raw subcommand was asked to do.
type rawConfig struct {
	target
	request         []byte
	dribble         time.Duration
	chunkSize       int
	readTimeout     time.Duration
	closeAfterSend  bool
	closeAfterBytes int
}

// rawReport is raw's JSON report.
type rawReport struct {
	Received       string         `json:"received"`
	Responses      []httpResponse `json:"responses"`
	Ended          string         `json:"ended"` // eof, reset, timeout, client-closed or error
	BytesSent      int            `json:"bytesSent"`
	AllSent        bool           `json:"allSent"`
	ElapsedSeconds float64        `json:"elapsedSeconds"`
	HandshakeError string         `json:"handshakeError"`
}

// httpResponse is one complete HTTP/1.x response found in what the server sent.
type httpResponse struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"` // lowercased names
	Body    string              `json:"body"`    // decoded from chunked
}

// rawCommand parses raw's flags and runs it.
func rawCommand(args []string) (interface{}, error) {
	flags := flag.NewFlagSet("raw", flag.ContinueOnError)
	var cfg rawConfig
	cfg.target.register(flags)
	requestFile := flags.String("request-file", "", "file whose exact bytes are sent (required)")
	flags.DurationVar(&cfg.dribble, "dribble", 0, "send -chunk-size bytes at a time with this pause between chunks (slowloris)")
	flags.IntVar(&cfg.chunkSize, "chunk-size", 1, "bytes per chunk with -dribble")
	flags.DurationVar(&cfg.readTimeout, "read-timeout", 10*time.Second, "stop reading after this long without a byte read, counted from the end of sending (also bounds the TLS handshake)")
	flags.BoolVar(&cfg.closeAfterSend, "close-after-send", false, "close the connection as soon as everything is sent (a client leaving mid-request)")
	flags.IntVar(&cfg.closeAfterBytes, "close-after-bytes", 0, "close the connection after reading this many response bytes (a client leaving mid-body)")
	if err := parseFlags(flags, args); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	switch {
	case *requestFile == "":
		return nil, errors.New("-request-file is required")
	case cfg.dribble < 0:
		return nil, errors.New("-dribble must not be negative")
	case cfg.chunkSize < 1:
		return nil, errors.New("-chunk-size must be at least 1")
	case cfg.readTimeout <= 0:
		return nil, errors.New("-read-timeout must be positive")
	case cfg.closeAfterBytes < 0:
		return nil, errors.New("-close-after-bytes must not be negative")
	}
	request, err := os.ReadFile(*requestFile)
	if err != nil {
		return nil, err
	}
	cfg.request = request
	return runRaw(cfg)
}

// runRaw connects, sends the request and reads the answer; only a failed TCP connect is an error.
func runRaw(cfg rawConfig) (*rawReport, error) {
	start := time.Now()
	raw, err := net.DialTimeout("tcp", cfg.addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	report := &rawReport{Responses: []httpResponse{}}
	conn := raw
	if cfg.useTLS {
		tlsConn := tls.Client(raw, cfg.tlsConfig())
		raw.SetDeadline(time.Now().Add(cfg.readTimeout))
		if err := tlsConn.Handshake(); err != nil {
			fmt.Fprintf(os.Stderr, "TLS handshake: %v\n", err)
			report.HandshakeError = err.Error()
			report.Ended = endReason(err)
			report.ElapsedSeconds = seconds(time.Since(start))
			return report, nil
		}
		raw.SetDeadline(time.Time{})
		conn = tlsConn
	}
	session := &rawSession{cfg: cfg, conn: conn, raw: raw, sending: true, lastActivity: time.Now(), done: make(chan struct{})}
	go session.read()
	session.send()
	if cfg.closeAfterSend {
		session.closeConnection()
	}
	<-session.done
	report.Received = session.received.String()
	report.Responses = parseResponses(session.received.Bytes(), session.ended == "eof")
	report.Ended = session.ended
	report.BytesSent = session.sent
	report.AllSent = session.sent == len(cfg.request)
	report.ElapsedSeconds = seconds(time.Since(start))
	return report, nil
}

// rawSession is one raw connection: the main goroutine sends, another one reads.
type rawSession struct {
	cfg  rawConfig
	conn net.Conn // what is read and written: raw, or TLS over it
	raw  net.Conn // the TCP connection, closed directly to leave abruptly
	sent int

	mu           sync.Mutex
	sending      bool
	lastActivity time.Time // the last byte read, or the end of sending
	closedByUs   bool
	received     bytes.Buffer
	ended        string
	done         chan struct{} // closed when reading ends
}

// send writes the request, at once or dribbled, until it is all sent, a write fails or the
// connection has ended.
func (s *rawSession) send() {
	defer s.sendingDone()
	chunk := len(s.cfg.request)
	if s.cfg.dribble > 0 {
		chunk = s.cfg.chunkSize
	}
	for s.sent < len(s.cfg.request) {
		if s.sent > 0 {
			select {
			case <-s.done:
				return
			case <-time.After(s.cfg.dribble):
			}
		}
		end := s.sent + chunk
		if end > len(s.cfg.request) {
			end = len(s.cfg.request)
		}
		s.conn.SetWriteDeadline(time.Now().Add(s.cfg.readTimeout))
		n, err := s.conn.Write(s.cfg.request[s.sent:end])
		s.sent += n
		if err != nil {
			fmt.Fprintf(os.Stderr, "write after %d bytes: %v\n", s.sent, err)
			return
		}
	}
}

// sendingDone starts the read timeout.
func (s *rawSession) sendingDone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sending = false
	s.lastActivity = time.Now()
}

// closeConnection closes the TCP connection (no TLS close_notify) unless reading has already ended.
func (s *rawSession) closeConnection() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended == "" {
		s.closedByUs = true
		s.raw.Close()
	}
}

// read collects everything the server sends until it closes the connection, the read timeout
// passes, or -close-after-bytes bytes have arrived.
func (s *rawSession) read() {
	defer close(s.done)
	buffer := make([]byte, 32*1024)
	for {
		want := len(buffer)
		if limit := s.cfg.closeAfterBytes; limit > 0 && limit-s.received.Len() < want {
			want = limit - s.received.Len()
		}
		s.conn.SetReadDeadline(s.readDeadline())
		n, err := s.conn.Read(buffer[:want])
		s.mu.Lock()
		s.received.Write(buffer[:n])
		if n > 0 {
			s.lastActivity = time.Now()
		}
		s.mu.Unlock()
		if s.cfg.closeAfterBytes > 0 && s.received.Len() >= s.cfg.closeAfterBytes {
			s.closeConnection()
			s.finish("client-closed")
			return
		}
		if err != nil && !(isTimeout(err) && s.readDeadline().After(time.Now())) {
			s.finish(s.readEnd(err))
			return
		}
	}
}

// readDeadline is when reading gives up: -read-timeout after the last byte read or the end of
// sending, and never while still sending.
func (s *rawSession) readDeadline() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sending {
		return time.Now().Add(s.cfg.readTimeout)
	}
	return s.lastActivity.Add(s.cfg.readTimeout)
}

// readEnd names how reading ended after err.
func (s *rawSession) readEnd(err error) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedByUs {
		return "client-closed"
	}
	ended := endReason(err)
	if ended == "error" {
		fmt.Fprintf(os.Stderr, "read: %v\n", err)
	}
	return ended
}

// finish records how reading ended.
func (s *rawSession) finish(ended string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = ended
}

// parseResponses returns the complete HTTP/1.x responses at the start of data, in order, stopping
// at the first incomplete or malformed one; a body delimited by the connection's close counts
// only when closed (the server closed the connection cleanly).
func parseResponses(data []byte, closed bool) []httpResponse {
	reader := bufio.NewReader(bytes.NewReader(data))
	responses := []httpResponse{}
	for {
		if _, err := reader.Peek(1); err != nil {
			return responses
		}
		response, closeDelimited, err := readResponse(reader)
		if err != nil || (closeDelimited && !closed) {
			return responses
		}
		responses = append(responses, response)
	}
}

// readResponse reads one response: status line, header and body (none for 1xx, 204 and 304;
// chunked, Content-Length, or up to the end of the data, which it then reports as closeDelimited).
func readResponse(reader *bufio.Reader) (response httpResponse, closeDelimited bool, err error) {
	lines := textproto.NewReader(reader)
	statusLine, err := lines.ReadLine()
	if err != nil {
		return response, false, err
	}
	proto, rest, _ := strings.Cut(statusLine, " ")
	code, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(code) != 3 {
		return response, false, fmt.Errorf("malformed status line %q", statusLine)
	}
	if response.Status, err = strconv.Atoi(code); err != nil {
		return response, false, err
	}
	header, err := lines.ReadMIMEHeader()
	if err != nil {
		return response, false, err
	}
	response.Headers = map[string][]string{}
	for name, values := range header {
		lower := strings.ToLower(name)
		response.Headers[lower] = append(response.Headers[lower], values...)
	}
	var body []byte
	switch codings := response.Headers["transfer-encoding"]; {
	case response.Status/100 == 1 || response.Status == 204 || response.Status == 304:
	case len(codings) > 0 && strings.EqualFold(strings.TrimSpace(lastItem(codings)), "chunked"):
		if body, err = io.ReadAll(httputil.NewChunkedReader(reader)); err == nil {
			_, err = lines.ReadMIMEHeader() // the trailer section
		}
	case len(response.Headers["content-length"]) > 0:
		body, err = readLength(reader, response.Headers["content-length"][0])
	default:
		body, err = io.ReadAll(reader)
		closeDelimited = true
	}
	response.Body = string(body)
	return response, closeDelimited, err
}

// readLength reads a body of the given Content-Length.
func readLength(reader io.Reader, contentLength string) ([]byte, error) {
	length, err := strconv.ParseInt(contentLength, 10, 64)
	if err != nil || length < 0 {
		return nil, fmt.Errorf("bad Content-Length %q", contentLength)
	}
	body, err := io.ReadAll(io.LimitReader(reader, length))
	if err == nil && int64(len(body)) < length {
		err = io.ErrUnexpectedEOF
	}
	return body, err
}

// lastItem returns the last element of the comma-separated lists in values.
func lastItem(values []string) string {
	items := strings.Split(values[len(values)-1], ",")
	return items[len(items)-1]
}
