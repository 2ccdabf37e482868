// h2-reset-client checks that cancelling one HTTP/2 request resets only its stream: it starts a
// long request on one HTTP/2 connection, cancels it (Go sends RST_STREAM), waits until the upstream
// says that request ended, then sends a second request and reports whether it reused the same
// connection.
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
	"strings"
	"time"
)

func main() {
	first := flag.String("first", "", "URL of the request to cancel")
	second := flag.String("second", "", "URL of the request sent after the cancellation")
	token := flag.String("token", "", "bearer token")
	cancelAfter := flag.Duration("cancel-after", time.Second, "how long the first request runs before it is cancelled")
	released := flag.String("released", "", "URL to poll until its body contains -released-marker")
	marker := flag.String("released-marker", "", "text that shows the first request has ended upstream")
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

	if *released != "" {
		waitFor(*released, *marker, 10*time.Second)
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

// waitFor polls url until its body contains marker, or fails after timeout.
func waitFor(url, marker string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if response, err := http.Get(url); err == nil {
			body, _ := io.ReadAll(response.Body)
			response.Body.Close()
			if strings.Contains(string(body), marker) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	fail("%s never showed %q", url, marker)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
