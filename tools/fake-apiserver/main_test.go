package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixturesDir holds the captured kube-apiserver exchanges; override with FIXTURES_DIR.
func fixturesDir(t *testing.T) string {
	dir := os.Getenv("FIXTURES_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "fixtures", "apiserver")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("fixtures not found at %s (set FIXTURES_DIR): %v", dir, err)
	}
	return dir
}

// exchange is one captured fixture file.
type exchange struct {
	Request struct {
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	} `json:"response"`
}

// requestBody returns the fixture body as sent: a JSON string holds a raw (malformed) body.
func (e exchange) requestBody() string {
	var raw string
	if json.Unmarshal(e.Request.Body, &raw) == nil {
		return raw
	}
	return string(e.Request.Body)
}

// withoutTimes drops managedFields[].time, the one value that differs on every run.
func withoutTimes(value interface{}) interface{} {
	switch typed := value.(type) {
	case map[string]interface{}:
		copied := map[string]interface{}{}
		for key, inner := range typed {
			if key != "time" {
				copied[key] = withoutTimes(inner)
			}
		}
		return copied
	case []interface{}:
		copied := make([]interface{}, len(typed))
		for i, inner := range typed {
			copied[i] = withoutTimes(inner)
		}
		return copied
	default:
		return value
	}
}

// fixtureServer knows the fixture tokens and the RBAC grant of the captured cluster.
func fixtureServer(t *testing.T, dir string) *server {
	s := &server{callerToken: "caller", mode: modeNormal, users: map[string]user{
		"alice-ca1a8797a6642156924db5306eb46ab1": {Username: "alice", UID: "uid-alice", Groups: []string{"pprof-users", "system:authenticated"}},
	}, rules: []rule{{User: "alice", Paths: []string{"/debug/pprof", "/debug/pprof/*"}, Verbs: []string{"get"}}}}
	serviceAccounts := map[string]user{
		"tokenreview-audience-match.json": {Username: "system:serviceaccount:default:pprof-proxy", UID: "612f4970-2331-4be0-a630-c4847d97799b",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}, Audiences: []string{"pprof-rbac-proxy"}},
		"tokenreview-serviceaccount-valid.json": {Username: "system:serviceaccount:default:no-delegator", UID: "ffc93cfe-1f2c-4d33-9397-a7c01bbd2cdf",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}},
	}
	for file, account := range serviceAccounts {
		var captured struct {
			Request struct {
				Body struct {
					Spec tokenReviewSpec `json:"spec"`
				} `json:"body"`
			} `json:"request"`
		}
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &captured); err != nil {
			t.Fatal(err)
		}
		s.users[captured.Request.Body.Spec.Token] = account
	}
	return s
}

func TestAnswersLikeTheCapturedAPIServer(t *testing.T) {
	dir := fixturesDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	handler := fixtureServer(t, dir).routes()
	for _, file := range files {
		name := filepath.Base(file)
		// The no-delegator caller's 403s come from RBAC on the caller, which this server does not model.
		if name == "tokenreview-caller-forbidden.json" || name == "sar-caller-forbidden.json" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var captured exchange
			if err := json.Unmarshal(data, &captured); err != nil {
				t.Fatal(err)
			}
			request := httptest.NewRequest(http.MethodPost, captured.Request.Path, strings.NewReader(captured.requestBody()))
			request.Header.Set("Content-Type", "application/json")
			request.Header.Set("User-Agent", "curl/7.88.1")
			switch {
			case strings.Contains(name, "caller-unauthenticated"):
			case strings.Contains(name, "caller-bad-token"):
				request.Header.Set("Authorization", "Bearer wrong")
			default:
				request.Header.Set("Authorization", "Bearer caller")
			}
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, request)

			if recorder.Code != captured.Response.Status {
				t.Errorf("status %d, want %d", recorder.Code, captured.Response.Status)
			}
			if got := recorder.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			var got, want interface{}
			if err := json.Unmarshal(recorder.Body.Bytes(), &got); err != nil {
				t.Fatalf("response is not JSON: %v: %s", err, recorder.Body)
			}
			if err := json.Unmarshal(captured.Response.Body, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(withoutTimes(got), withoutTimes(want)) {
				t.Errorf("body differs\n got: %s\nwant: %s", recorder.Body, captured.Response.Body)
			}
		})
	}
}
