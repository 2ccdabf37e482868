package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fixturesDir holds the captured kube-apiserver exchanges (Tests/Fixtures/apiserver, written by
// scripts/capture-apiserver-fixtures); override with FIXTURES_DIR.
func fixturesDir(t *testing.T) string {
	dir := os.Getenv("FIXTURES_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "Tests", "Fixtures", "apiserver")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("fixtures not found at %s (set FIXTURES_DIR): %v", dir, err)
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
	s := &server{callerToken: "caller", mode: reviewMode{name: modeNormal}, users: map[string]user{
		"alice-ca1a8797a6642156924db5306eb46ab1": {Username: "alice", UID: "uid-alice", Groups: []string{"pprof-users", "system:authenticated"}},
	}, rules: []rule{{User: "alice", Paths: []string{"/debug/pprof", "/debug/pprof/*"}, Verbs: []string{"get"}}}}
	// The ServiceAccounts whose tokens were reviewed, as the captured API server answered for them.
	for _, file := range []string{"tokenreview-audience-match.json", "tokenreview-serviceaccount-valid.json"} {
		var captured struct {
			Request struct {
				Body struct {
					Spec tokenReviewSpec `json:"spec"`
				} `json:"body"`
			} `json:"request"`
			Response struct {
				Body struct {
					Status struct {
						User      user     `json:"user"`
						Audiences []string `json:"audiences"`
					} `json:"status"`
				} `json:"body"`
			} `json:"response"`
		}
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &captured); err != nil {
			t.Fatal(err)
		}
		account := captured.Response.Body.Status.User
		if audiences := captured.Response.Body.Status.Audiences; len(audiences) == 1 && audiences[0] != "https://kubernetes.default.svc.cluster.local" {
			account.Audiences = audiences
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
			request.Header.Set("User-Agent", captured.Request.Headers["User-Agent"])
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

// faultServer is a server with one user ("t-alice") for the fault-mode tests.
func faultServer() *server {
	return &server{callerToken: "caller", mode: reviewMode{name: modeNormal},
		users: map[string]user{"t-alice": {Username: "alice", UID: "uid-alice"}}}
}

// setMode posts body to /control/mode and returns the status code.
func setMode(t *testing.T, client *http.Client, baseURL, body string) int {
	t.Helper()
	response, err := client.Post(baseURL+"/control/mode", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	return response.StatusCode
}

// postTokenReview creates a TokenReview for t-alice as the caller and returns the response with
// its body read.
func postTokenReview(client *http.Client, baseURL string) (*http.Response, []byte, error) {
	request, err := http.NewRequest(http.MethodPost, baseURL+tokenReviewPath,
		strings.NewReader(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"t-alice"}}`))
	if err != nil {
		return nil, nil, err
	}
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set("Authorization", "Bearer caller")
	response, err := client.Do(request)
	if err != nil {
		return nil, nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	return response, body, err
}

// tokenReviewCalls reads the TokenReview counter from /control/calls.
func tokenReviewCalls(t *testing.T, client *http.Client, baseURL string) int {
	t.Helper()
	response, err := client.Get(baseURL + "/control/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var calls map[string]int
	if err := json.NewDecoder(response.Body).Decode(&calls); err != nil {
		t.Fatal(err)
	}
	return calls["tokenreviews"]
}

// reviewInMode starts a fake server in mode, posts one TokenReview, checks that the server counted
// it, and returns the answer.
func reviewInMode(t *testing.T, mode string) (*http.Response, []byte) {
	t.Helper()
	server := httptest.NewServer(faultServer().routes())
	t.Cleanup(server.Close)
	setMode(t, server.Client(), server.URL, mode)
	response, body, err := postTokenReview(server.Client(), server.URL)
	if err != nil {
		t.Fatal(err)
	}
	if calls := tokenReviewCalls(t, server.Client(), server.URL); calls != 1 {
		t.Errorf("%d TokenReview calls counted, want 1", calls)
	}
	return response, body
}

// expectJSONAnswer checks an answer's status and its application/json content type.
func expectJSONAnswer(t *testing.T, response *http.Response, status int) {
	t.Helper()
	if response.StatusCode != status {
		t.Errorf("status %d, want %d", response.StatusCode, status)
	}
	if got := response.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
}

func TestRejectsUnknownModes(t *testing.T) {
	server := httptest.NewServer(faultServer().routes())
	defer server.Close()
	for _, mode := range []string{"", "bogus", "slow", "slow:", "slow:soon", "slow:-1s", "reset:1s", "error429x"} {
		if code := setMode(t, server.Client(), server.URL, mode); code != http.StatusBadRequest {
			t.Errorf("mode %q: status %d, want 400", mode, code)
		}
	}
	for _, mode := range []string{"normal", "error500", "hang", "error429", "garbage", "wrong-kind", "slow:0s", "slow:1.5s", "reset"} {
		if code := setMode(t, server.Client(), server.URL, mode); code != http.StatusNoContent {
			t.Errorf("mode %q: status %d, want 204", mode, code)
		}
	}
}

func TestError429IsTheAPIServersTooManyRequests(t *testing.T) {
	response, body := reviewInMode(t, "error429")
	expectJSONAnswer(t, response, http.StatusTooManyRequests)
	if got := response.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	want := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429}`
	if got := strings.TrimSpace(string(body)); got != want {
		t.Errorf("body\n got: %s\nwant: %s", got, want)
	}
}

func TestGarbageIsA201ThatIsNotJSON(t *testing.T) {
	response, body := reviewInMode(t, "garbage")
	expectJSONAnswer(t, response, http.StatusCreated)
	if !strings.HasPrefix(string(body), `{"kind":"TokenReview","apiVersion":`) || json.Valid(body) {
		t.Errorf("body %q: want a truncated TokenReview that is not JSON", body)
	}
}

func TestWrongKindIsA201StatusInsteadOfAReview(t *testing.T) {
	response, body := reviewInMode(t, "wrong-kind")
	expectJSONAnswer(t, response, http.StatusCreated)
	var object map[string]interface{}
	if err := json.Unmarshal(body, &object); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if object["kind"] != "Status" || object["status"] != "Success" {
		t.Errorf("body %s: want a Success Status", body)
	}
}

func TestSlowAnswersNormallyAfterTheDelay(t *testing.T) {
	const delay = 200 * time.Millisecond
	started := time.Now()
	response, body := reviewInMode(t, "slow:"+delay.String())
	if elapsed := time.Since(started); elapsed < delay || elapsed > delay+2*time.Second {
		t.Errorf("answered after %v, want about %v", elapsed, delay)
	}
	var review tokenReview
	if err := json.Unmarshal(body, &review); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if response.StatusCode != http.StatusCreated || !review.Status.Authenticated || review.Status.User.Username != "alice" {
		t.Errorf("status %d, body %s: want alice authenticated", response.StatusCode, body)
	}
}

func TestResetClosesTheConnectionWithRST(t *testing.T) {
	for _, protocol := range []string{"HTTP/1.1", "HTTP/2"} {
		t.Run(protocol, func(t *testing.T) {
			server := httptest.NewUnstartedServer(faultServer().routes())
			server.Config.ConnContext = rememberConn
			server.EnableHTTP2 = protocol == "HTTP/2"
			server.StartTLS()
			defer server.Close()
			client := server.Client()
			setMode(t, client, server.URL, "reset")
			response, body, err := postTokenReview(client, server.URL)
			if err == nil {
				t.Fatalf("got %s %s, want a connection error", response.Status, body)
			}
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("error %v, want a connection reset", err)
			}
			if calls := tokenReviewCalls(t, client, server.URL); calls != 1 {
				t.Errorf("%d TokenReview calls counted, want 1", calls)
			}
		})
	}
}
