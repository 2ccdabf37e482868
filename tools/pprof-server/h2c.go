package main

// HTTP/2 with prior knowledge over cleartext (h2c), standard library only.
//
// Go 1.19's net/http has an HTTP/2 server, but reaches it only through TLS (ALPN "h2"); the h2c
// handler lives in golang.org/x/net. So the listener sorts connections by their first bytes:
// HTTP/1.x goes to the server as it is, and an HTTP/2 client preface goes through an in-process
// TLS bridge (a tls.Client over net.Pipe, the other end served by the same http.Server behind a
// TLS listener that offers only "h2"). The frames pass through unchanged, so the upstream is Go's
// own HTTP/2 server: stream resets cancel request contexts exactly as they would in production.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"
)

// h2cPreface is what an HTTP/2 client with prior knowledge sends first (RFC 9113 §3.4).
const h2cPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// bridgeServerName is the name the bridge's private TLS certificate is issued to.
const bridgeServerName = "pprof-server-h2c-bridge"

// sniffTimeout bounds how long a new connection may take to show which protocol it speaks.
const sniffTimeout = 32 * time.Second

// serveH2C serves HTTP/1.1 and h2c on listener until it fails.
func serveH2C(server *http.Server, listener net.Listener) error {
	serverTLS, clientTLS, err := bridgeTLSConfigs()
	if err != nil {
		return err
	}
	http1 := newConnListener(listener.Addr())
	http2 := newConnListener(listener.Addr())
	failed := make(chan error, 3)
	go func() { failed <- server.Serve(http1) }()
	go func() { failed <- server.Serve(tls.NewListener(http2, serverTLS)) }()
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				failed <- err
				return
			}
			go route(conn, http1, http2, clientTLS)
		}
	}()
	return <-failed
}

// route hands conn to the HTTP/1 server, or bridges it to the HTTP/2 server if it starts with
// the HTTP/2 client preface.
func route(conn net.Conn, http1, http2 *connListener, clientTLS *tls.Config) {
	reader := bufio.NewReaderSize(conn, 4096)
	if err := conn.SetReadDeadline(time.Now().Add(sniffTimeout)); err != nil {
		conn.Close()
		return
	}
	isHTTP2, err := startsWith(reader, h2cPreface)
	if err != nil || conn.SetReadDeadline(time.Time{}) != nil {
		conn.Close()
		return
	}
	sniffed := &sniffedConn{Conn: conn, reader: reader}
	if !isHTTP2 {
		http1.deliver(sniffed)
		return
	}
	serverEnd, clientEnd := net.Pipe()
	http2.deliver(&addressedConn{Conn: serverEnd, local: conn.LocalAddr(), remote: conn.RemoteAddr()})
	bridge(sniffed, tls.Client(clientEnd, clientTLS), clientEnd)
}

// startsWith reports whether the stream begins with prefix, reading no further than the first
// byte that differs (an HTTP/1 request may be shorter than the preface).
func startsWith(reader *bufio.Reader, prefix string) (bool, error) {
	for n := 1; n <= len(prefix); n++ {
		peeked, err := reader.Peek(n)
		if err != nil {
			return false, err
		}
		if peeked[n-1] != prefix[n-1] {
			return false, nil
		}
	}
	return true, nil
}

// bridge copies cleartext between the client connection and the TLS bridge in both directions;
// when either side ends, both are closed, so the HTTP/2 server sees its client leave at once.
func bridge(conn net.Conn, tlsClient *tls.Conn, pipe net.Conn) {
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			conn.Close()
			// Closing the pipe, not the TLS client: a close_notify could block on an unread pipe.
			pipe.Close()
		})
	}
	go func() {
		_, _ = io.Copy(tlsClient, conn)
		closeBoth()
	}()
	_, _ = io.Copy(conn, tlsClient)
	closeBoth()
}

// bridgeTLSConfigs makes a private certificate and the two TLS configurations of the bridge.
func bridgeTLSConfigs() (server *tls.Config, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: bridgeServerName},
		DNSNames:     []string{bridgeServerName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * 365 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	certificate, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(certificate)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: certificate}},
		NextProtos:   []string{"h2"},
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{
		RootCAs:    roots,
		ServerName: bridgeServerName,
		NextProtos: []string{"h2"},
		MinVersion: tls.VersionTLS12,
	}
	return server, client, nil
}

// connListener is a net.Listener whose connections are handed to it by the program.
type connListener struct {
	addr      net.Addr
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// deliver passes conn to Accept, or closes it if the listener is closed.
func (l *connListener) deliver(conn net.Conn) {
	select {
	case l.conns <- conn:
	case <-l.closed:
		conn.Close()
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case conn := <-l.conns:
		return conn, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }

// sniffedConn is a connection whose first bytes were already read into reader.
type sniffedConn struct {
	net.Conn
	reader *bufio.Reader
}

func (c *sniffedConn) Read(p []byte) (int, error) { return c.reader.Read(p) }

// addressedConn is the HTTP/2 server's end of the bridge, reporting the real client's addresses
// (so requests on one upstream connection share a remoteAddr, as over TCP).
type addressedConn struct {
	net.Conn
	local, remote net.Addr
}

func (c *addressedConn) LocalAddr() net.Addr  { return c.local }
func (c *addressedConn) RemoteAddr() net.Addr { return c.remote }
