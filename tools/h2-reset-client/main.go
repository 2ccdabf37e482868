// h2-reset-client checks that cancelling one HTTP/2 request resets only its stream: it starts a
// long request on one HTTP/2 connection, cancels it (Go sends RST_STREAM), then sends a second
// request and reports whether it reused the same connection.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"time"
)

func main() {
	first := flag.String("first", "", "URL of the request to cancel")
	second := flag.String("second", "", "URL of the request sent after the cancellation")
	token := flag.String("token", "", "bearer token")
	cancelAfter := flag.Duration("cancel-after", time.Second, "how long the first request runs before it is cancelled")
	flag.Parse()

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: true,
	}}

	ctx, cancel := context.WithTimeout(context.Background(), *cancelAfter)
	defer cancel()
	if _, err := get(ctx, client, *first, *token, nil); err == nil {
		fail("the first request finished before it was cancelled")
	}

	reused := false
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	response, err := get(context.Background(), client, *second, *token, trace)
	if err != nil {
		fail("second request: %v", err)
	}
	fmt.Printf("status=%d proto=%s reused=%t\n", response.StatusCode, response.Proto, reused)
}

// get sends a GET and reads the whole body.
func get(ctx context.Context, client *http.Client, url, token string, trace *httptrace.ClientTrace) (*http.Response, error) {
	if trace != nil {
		ctx = httptrace.WithClientTrace(ctx, trace)
	}
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	request.Header.Set("Authorization", "Bearer "+token)
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if _, err := io.Copy(io.Discard, response.Body); err != nil {
		return nil, err
	}
	return response, nil
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
