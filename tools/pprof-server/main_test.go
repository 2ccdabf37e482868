package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startServer serves the routes with recording on a fresh loopback server; over HTTP/2 (TLS) when
// http2 is set, else over HTTP/1.1. The client opens a new connection per request, so a failed
// request is never retried on another one.
func startServer(t *testing.T, http2 bool) (*httptest.Server, *http.Client) {
	t.Helper()
	rec := &recorder{}
	server := httptest.NewUnstartedServer(rec.wrap(routes(rec)))
	if !http2 {
		server.Start()
		t.Cleanup(server.Close)
		return server, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	}
	server.EnableHTTP2 = true
	server.StartTLS()
	t.Cleanup(server.Close)
	return server, server.Client()
}

// get requests path and reads the whole body; the error is the request's or the body's.
func get(ctx context.Context, client *http.Client, url string) (*http.Response, []byte, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	response, err := client.Do(request)
	if err != nil {
		return nil, nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	return response, body, err
}

// finishedRecord polls /control/requests until the request to path has ended, and returns its
// record; there must be exactly one.
func finishedRecord(t *testing.T, server *httptest.Server, client *http.Client, path string) requestRecord {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		response, body, err := get(context.Background(), client, server.URL+"/control/requests")
		if err != nil || response.StatusCode != http.StatusOK {
			t.Fatalf("/control/requests: %v %s", err, body)
		}
		var records, matching []requestRecord
		if err := json.Unmarshal(body, &records); err != nil {
			t.Fatal(err)
		}
		for _, record := range records {
			if record.Path == path {
				matching = append(matching, record)
			}
		}
		if len(matching) > 1 {
			t.Fatalf("%d records for %s, want 1", len(matching), path)
		}
		if len(matching) == 1 && matching[0].Ended != endedRunning {
			return matching[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished record for %s in %s", path, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkRecord compares how the request ended, its status and its body size with the wanted ones.
func checkRecord(t *testing.T, record requestRecord, ended string, status int, bytes int64) {
	t.Helper()
	if record.Ended != ended || record.Status != status || record.Bytes != bytes {
		t.Errorf("record ended=%s status=%d bytes=%d, want ended=%s status=%d bytes=%d",
			record.Ended, record.Status, record.Bytes, ended, status, bytes)
	}
}

func TestResetBeforeAnyResponse(t *testing.T) {
	server, client := startServer(t, false)
	response, body, err := get(context.Background(), client, server.URL+"/debug/pprof/reset")
	if err == nil {
		t.Fatalf("got %s %q, want a connection reset", response.Status, body)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("error %v, want a connection reset", err)
	}
	checkRecord(t, finishedRecord(t, server, client, "/debug/pprof/reset"), endedAborted, 0, 0)
}

func TestResetAfterAPartialChunkedBody(t *testing.T) {
	server, client := startServer(t, false)
	response, body, err := get(context.Background(), client, server.URL+"/debug/pprof/reset?after=1000")
	if response == nil {
		t.Fatalf("no response: %v", err)
	}
	if response.StatusCode != http.StatusOK || len(response.TransferEncoding) != 1 || response.TransferEncoding[0] != "chunked" {
		t.Errorf("status %d, Transfer-Encoding %q: want 200, chunked", response.StatusCode, response.TransferEncoding)
	}
	if len(body) != 1000 || string(body[:26]) != "abcdefghijklmnopqrstuvwxyz" {
		t.Errorf("read %d bytes (%.30q...), want the 1000 of the chunk", len(body), body)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("body error %v, want a connection reset", err)
	}
	checkRecord(t, finishedRecord(t, server, client, "/debug/pprof/reset"), endedAborted, http.StatusOK, 1000)
}

func TestResetDeliversALargeChunkToASlowReaderFirst(t *testing.T) {
	server, client := startServer(t, false)
	const size = 4 << 20 // more than the socket buffers hold
	conn, err := net.Dial("tcp", server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET /debug/pprof/reset?after=%d HTTP/1.1\r\nHost: test\r\n\r\n", size); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server's buffers fill up before anything is read
	response, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(response.Body)
	if len(body) != size || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read %d bytes then %v, want %d then a connection reset", len(body), err, size)
	}
	checkRecord(t, finishedRecord(t, server, client, "/debug/pprof/reset"), endedAborted, http.StatusOK, size)
}

func TestTruncateEndsTheBodyEarly(t *testing.T) {
	for _, framing := range []string{"chunked", "length"} {
		t.Run(framing, func(t *testing.T) {
			server, client := startServer(t, false)
			response, body, err := get(context.Background(), client, server.URL+"/debug/pprof/truncate?bytes=100000&framing="+framing)
			if response == nil {
				t.Fatalf("no response: %v", err)
			}
			wantLength := int64(-1)
			if framing == "length" {
				wantLength = 200000
			}
			if response.StatusCode != http.StatusOK || response.ContentLength != wantLength {
				t.Errorf("status %d, Content-Length %d: want 200, %d", response.StatusCode, response.ContentLength, wantLength)
			}
			if len(body) != 100000 {
				t.Errorf("read %d bytes, want 100000", len(body))
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("body error %v, want an unexpected EOF", err)
			}
			checkRecord(t, finishedRecord(t, server, client, "/debug/pprof/truncate"), endedAborted, http.StatusOK, 100000)
		})
	}
}

func TestSlowHeadAnswersAfterTheDelay(t *testing.T) {
	server, client := startServer(t, false)
	const delay = 150 * time.Millisecond
	started := time.Now()
	response, body, err := get(context.Background(), client, server.URL+"/debug/pprof/slow-head?delay="+delay.String())
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(started); elapsed < delay || elapsed > delay+2*time.Second {
		t.Errorf("answered after %v, want about %v", elapsed, delay)
	}
	if response.StatusCode != http.StatusOK || string(body) != "slow head\n" {
		t.Errorf("got %d %q, want 200 \"slow head\\n\"", response.StatusCode, body)
	}
	checkRecord(t, finishedRecord(t, server, client, "/debug/pprof/slow-head"), endedDone, http.StatusOK, int64(len(body)))
}

func TestSlowHeadStopsWhenTheClientLeaves(t *testing.T) {
	server, client := startServer(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := get(ctx, client, server.URL+"/debug/pprof/slow-head?delay=1m"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the client's deadline", err)
	}
	record := finishedRecord(t, server, client, "/debug/pprof/slow-head")
	checkRecord(t, record, endedClientGone, http.StatusOK, 0)
	if record.DurationSeconds > 5 {
		t.Errorf("handler ran %.1fs, want it to stop when the client left", record.DurationSeconds)
	}
}

func TestFaultsResetTheStreamOverHTTP2(t *testing.T) {
	for _, target := range []string{"/debug/pprof/reset", "/debug/pprof/reset?after=10", "/debug/pprof/truncate?bytes=10",
		"/debug/pprof/truncate?bytes=10&framing=length"} {
		t.Run(target, func(t *testing.T) {
			server, client := startServer(t, true)
			response, body, err := get(context.Background(), client, server.URL+target)
			if err == nil {
				t.Fatalf("got %s %q, want a stream error", response.Status, body)
			}
			if response != nil && len(body) != 10 {
				t.Errorf("read %d bytes before the reset, want 10", len(body))
			}
			record := finishedRecord(t, server, client, strings.SplitN(target, "?", 2)[0])
			if record.Proto != "HTTP/2.0" || record.Ended != endedAborted {
				t.Errorf("record proto=%s ended=%s, want HTTP/2.0 aborted", record.Proto, record.Ended)
			}
		})
	}
}

func TestFaultEndpointsRejectBadParameters(t *testing.T) {
	server, client := startServer(t, false)
	for _, target := range []string{"/debug/pprof/reset?after=-1", "/debug/pprof/reset?after=x", "/debug/pprof/truncate",
		"/debug/pprof/truncate?bytes=0", "/debug/pprof/truncate?bytes=5&framing=gzip", "/debug/pprof/slow-head?delay=soon"} {
		response, body, err := get(context.Background(), client, server.URL+target)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if response.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: got %d %q, want 400", target, response.StatusCode, body)
		}
	}
}
