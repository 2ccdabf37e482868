// Command go-relay is kube-rbac-proxy's data path without its Kubernetes calls, for scripts/bench:
// Go's net/http server on crypto/tls (HTTP/1.1 and HTTP/2), a static bearer-token check, and
// net/http/httputil.ReverseProxy to the upstream over a keep-alive transport, which is what
// kube-rbac-proxy relays with once its caches answer. It logs one line per request to stdout, as
// the proxy and nginx do.
//
//	go-relay -listen 127.0.0.1:0 -upstream http://127.0.0.1:8081 -cert tls.crt -key tls.key -token TOKEN
package main

import (
	"bufio"
	"crypto/subtle"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "upstream URL, e.g. http://127.0.0.1:8081")
	certFile := flag.String("cert", "", "serving certificate (PEM)")
	keyFile := flag.String("key", "", "serving key (PEM)")
	token := flag.String("token", "", "the one bearer token accepted")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil || target.Host == "" || *token == "" {
		log.Fatalf("go-relay: -upstream URL and -token are required")
	}
	certificate, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatalf("go-relay: %v", err)
	}

	relay := httputil.NewSingleHostReverseProxy(target)
	relay.Transport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	accessLog := newLineWriter(os.Stdout)
	want := []byte("Bearer " + *token)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			accessLog.printf("request method=%s path=%q status=401 duration=%v\n", r.Method, r.URL.Path, time.Since(start))
			return
		}
		r.Header.Del("Authorization")
		relay.ServeHTTP(w, r)
		accessLog.printf("request method=%s path=%q duration=%v\n", r.Method, r.URL.Path, time.Since(start))
	})

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("go-relay: %v", err)
	}
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       90 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{certificate}, NextProtos: []string{"h2", "http/1.1"}},
	}
	fmt.Printf("listening on %s\n", listener.Addr())
	log.Fatal(server.ServeTLS(listener, "", ""))
}

// lineWriter writes each access-log line with one write, from any goroutine.
type lineWriter struct {
	mutex  sync.Mutex
	writer *bufio.Writer
}

func newLineWriter(file *os.File) *lineWriter {
	return &lineWriter{writer: bufio.NewWriter(file)}
}

func (l *lineWriter) printf(format string, args ...interface{}) {
	l.mutex.Lock()
	defer l.mutex.Unlock()
	fmt.Fprintf(l.writer, format, args...)
	l.writer.Flush()
}
