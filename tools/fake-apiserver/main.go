// Command fake-apiserver is a stand-in Kubernetes API server for end-to-end tests. Over HTTPS it
// answers TokenReview and SubjectAccessReview creates with the shapes a real kube-apiserver
// (v1.20, RBAC) returns; see ../../Tests/Fixtures/apiserver for the captured exchanges.
//
// Test control endpoints (same server, no authentication):
//
//	GET  /control/calls     {"tokenreviews": N, "subjectaccessreviews": M}
//	GET  /control/requests  JSON array of the review request bodies received, in order
//	POST /control/reset     zero the counters and forget the bodies
//	POST /control/mode      body "normal" | "error500" | "hang" | "error429" | "garbage" |
//	                        "wrong-kind" | "slow:<Go duration>" | "reset"
//
// The modes change how review creates are answered (they are counted in /control/calls whatever
// the mode): error500 and error429 are Status objects (429 with Retry-After: 1); garbage is a 201
// whose JSON body breaks off into binary bytes; wrong-kind is a 201 with a Success Status instead
// of a review; hang never answers; slow:D answers normally after D; reset closes the connection
// with a TCP RST (SO_LINGER 0) without answering: over HTTP/1.1 the hijacked connection, over
// HTTP/2 the whole connection the stream arrived on.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	tokenReviewPath         = "/apis/authentication.k8s.io/v1/tokenreviews"
	subjectAccessReviewPath = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
	authenticationAPI       = "authentication.k8s.io/v1"
	authorizationAPI        = "authorization.k8s.io/v1"
	// defaultAudience is what a token is valid for when the users file lists no audiences, and
	// what a TokenReview without spec.audiences is checked against.
	defaultAudience = "https://kubernetes.default.svc.cluster.local"
	// hangDuration is longer than any client timeout a test uses.
	hangDuration = 10 * time.Minute
	maxBodyBytes = 1 << 20
)

// Server modes selectable through POST /control/mode.
const (
	modeNormal    = "normal"
	modeError500  = "error500"
	modeError429  = "error429"
	modeGarbage   = "garbage"
	modeWrongKind = "wrong-kind"
	modeHang      = "hang"
	modeSlow      = "slow" // written "slow:<Go duration>", e.g. slow:3s
	modeReset     = "reset"
)

// reviewMode is how review creates are answered.
type reviewMode struct {
	name  string        // one of the mode constants
	delay time.Duration // how long modeSlow waits before answering
}

// parseMode reads a POST /control/mode body: a mode name, or "slow:" and a non-negative Go duration.
func parseMode(text string) (reviewMode, bool) {
	if strings.HasPrefix(text, modeSlow+":") {
		delay, err := time.ParseDuration(strings.TrimPrefix(text, modeSlow+":"))
		return reviewMode{name: modeSlow, delay: delay}, err == nil && delay >= 0
	}
	switch text {
	case modeNormal, modeError500, modeError429, modeGarbage, modeWrongKind, modeHang, modeReset:
		return reviewMode{name: text}, true
	}
	return reviewMode{}, false
}

// user is one entry of the -users file, keyed by bearer token.
type user struct {
	Username  string   `json:"username"`
	UID       string   `json:"uid"`
	Groups    []string `json:"groups"`
	Audiences []string `json:"audiences"`
}

// rule is one entry of the -rules file: an RBAC-like grant to a user or a group.
type rule struct {
	User  string   `json:"user"`
	Group string   `json:"group"`
	Paths []string `json:"paths"`
	Verbs []string `json:"verbs"`
	// Resource, when present, makes this a rule for resource attributes: every key
	// (namespace, group, version, resource, subresource, name) must equal the request's value.
	Resource map[string]string `json:"resource"`
}

// Wire types, with field order and omitempty as in k8s.io/api so the JSON looks the same.

type objectMeta struct {
	CreationTimestamp *string        `json:"creationTimestamp"`
	ManagedFields     []managedField `json:"managedFields,omitempty"`
}

type managedField struct {
	Manager    string                 `json:"manager"`
	Operation  string                 `json:"operation"`
	APIVersion string                 `json:"apiVersion"`
	Time       string                 `json:"time"`
	FieldsType string                 `json:"fieldsType"`
	FieldsV1   map[string]interface{} `json:"fieldsV1"`
}

type userInfo struct {
	Username string              `json:"username,omitempty"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

type tokenReview struct {
	Kind       string            `json:"kind"`
	APIVersion string            `json:"apiVersion"`
	Metadata   objectMeta        `json:"metadata"`
	Spec       tokenReviewSpec   `json:"spec"`
	Status     tokenReviewStatus `json:"status"`
}

type tokenReviewSpec struct {
	Token     string   `json:"token,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
}

type tokenReviewStatus struct {
	Authenticated bool     `json:"authenticated,omitempty"`
	User          userInfo `json:"user"`
	Audiences     []string `json:"audiences,omitempty"`
	Error         string   `json:"error,omitempty"`
}

type subjectAccessReview struct {
	Kind       string                    `json:"kind"`
	APIVersion string                    `json:"apiVersion"`
	Metadata   objectMeta                `json:"metadata"`
	Spec       subjectAccessReviewSpec   `json:"spec"`
	Status     subjectAccessReviewStatus `json:"status"`
}

type subjectAccessReviewSpec struct {
	ResourceAttributes    *resourceAttributes    `json:"resourceAttributes,omitempty"`
	NonResourceAttributes *nonResourceAttributes `json:"nonResourceAttributes,omitempty"`
	User                  string                 `json:"user,omitempty"`
	Groups                []string               `json:"groups,omitempty"`
	Extra                 map[string][]string    `json:"extra,omitempty"`
	UID                   string                 `json:"uid,omitempty"`
}

type resourceAttributes struct {
	Namespace   string `json:"namespace,omitempty"`
	Verb        string `json:"verb,omitempty"`
	Group       string `json:"group,omitempty"`
	Version     string `json:"version,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
}

type nonResourceAttributes struct {
	Path string `json:"path,omitempty"`
	Verb string `json:"verb,omitempty"`
}

type subjectAccessReviewStatus struct {
	Allowed bool   `json:"allowed"`
	Denied  bool   `json:"denied,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// status is the metav1.Status object the API server answers errors with.
type status struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   struct{}       `json:"metadata"`
	Status     string         `json:"status"`
	Message    string         `json:"message,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Details    *statusDetails `json:"details,omitempty"`
	Code       int            `json:"code"`
}

type statusDetails struct {
	Group             string        `json:"group,omitempty"`
	Kind              string        `json:"kind,omitempty"`
	Causes            []statusCause `json:"causes,omitempty"`
	RetryAfterSeconds int           `json:"retryAfterSeconds,omitempty"`
}

type statusCause struct {
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func failure(code int, reason, message string, details *statusDetails) status {
	return status{Kind: "Status", APIVersion: "v1", Status: "Failure", Message: message, Reason: reason, Details: details, Code: code}
}

// reviewKind names the two review resources for messages and counters.
type reviewKind struct {
	kind     string // TokenReview
	resource string // tokenreviews
	group    string // authentication.k8s.io
}

var (
	tokenReviewKind         = reviewKind{"TokenReview", "tokenreviews", "authentication.k8s.io"}
	subjectAccessReviewKind = reviewKind{"SubjectAccessReview", "subjectaccessreviews", "authorization.k8s.io"}
)

// server holds the configuration and the state the tests observe and change.
type server struct {
	callerToken string
	users       map[string]user
	rules       []rule

	mu                   sync.Mutex
	mode                 reviewMode
	tokenReviews         int
	subjectAccessReviews int
	requestBodies        []json.RawMessage
}

// record counts a review request and keeps its body (as a JSON string when it is not JSON).
func (s *server) record(kind reviewKind, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == tokenReviewKind {
		s.tokenReviews++
	} else {
		s.subjectAccessReviews++
	}
	if json.Valid(body) {
		s.requestBodies = append(s.requestBodies, json.RawMessage(body))
	} else {
		quoted, _ := json.Marshal(string(body))
		s.requestBodies = append(s.requestBodies, quoted)
	}
}

func (s *server) currentMode() reviewMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

func writeJSON(w http.ResponseWriter, code int, value interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(value); err != nil {
		fmt.Fprintf(os.Stderr, "fake-apiserver: writing response: %v\n", err)
	}
}

func writeStatus(w http.ResponseWriter, st status) {
	writeJSON(w, st.Code, st)
}

// serveReview handles a review create: counting, mode, caller authentication, then the review.
func (s *server) serveReview(kind reviewKind, review func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeStatus(w, failure(http.StatusMethodNotAllowed, "MethodNotAllowed",
				"the server does not allow this method on the requested resource", nil))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			writeStatus(w, failure(http.StatusBadRequest, "BadRequest", err.Error(), nil))
			return
		}
		s.record(kind, body)

		mode := s.currentMode()
		switch mode.name {
		case modeError500:
			writeStatus(w, failure(http.StatusInternalServerError, "InternalError",
				"Internal error occurred: fake-apiserver is in error500 mode",
				&statusDetails{Causes: []statusCause{{Message: "fake-apiserver is in error500 mode"}}}))
			return
		case modeError429:
			// What the API server's priority and fairness filter answers when it sheds load.
			w.Header().Set("Retry-After", "1")
			writeStatus(w, failure(http.StatusTooManyRequests, "TooManyRequests",
				"Too many requests, please try again later.", &statusDetails{RetryAfterSeconds: 1}))
			return
		case modeGarbage:
			writeGarbage(w, kind)
			return
		case modeWrongKind:
			writeJSON(w, http.StatusCreated, status{Kind: "Status", APIVersion: "v1", Status: "Success", Code: http.StatusCreated})
			return
		case modeHang:
			waitUnlessGone(r, hangDuration)
			return
		case modeSlow:
			if !waitUnlessGone(r, mode.delay) {
				return
			}
		case modeReset:
			resetConnection(w, r)
			return
		}

		if !s.authenticateCaller(w, r, kind) {
			return
		}
		review(w, r, body)
	}
}

// writeGarbage answers 201 with a JSON Content-Type and a body that starts like a review and
// breaks off into binary bytes.
func writeGarbage(w http.ResponseWriter, kind reviewKind) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	if _, err := fmt.Fprintf(w, "{\"kind\":%q,\"apiVersion\":\x00\x9c\xff\xfe\x1f\x8b", kind.kind); err != nil {
		fmt.Fprintf(os.Stderr, "fake-apiserver: writing response: %v\n", err)
	}
}

// waitUnlessGone waits for delay and reports true, or reports false as soon as the client goes away.
func waitUnlessGone(r *http.Request, delay time.Duration) bool {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// connContextKey is the request context key of the request's connection (see rememberConn).
type connContextKey struct{}

// rememberConn is the server's ConnContext: it keeps each connection in its requests' context, so
// reset mode can reach the connection under HTTP/2, which cannot be hijacked.
func rememberConn(ctx context.Context, conn net.Conn) context.Context {
	return context.WithValue(ctx, connContextKey{}, conn)
}

// resetConnection drops the request's connection with a TCP RST and no answer: over HTTP/1.1 the
// hijacked connection; over HTTP/2 the whole connection the stream arrived on, as when an API
// server dies. Without a known connection it resets the stream only.
func resetConnection(w http.ResponseWriter, r *http.Request) {
	if hijacker, ok := w.(http.Hijacker); ok {
		if conn, _, err := hijacker.Hijack(); err == nil {
			abortConn(conn)
			return
		}
	}
	conn, ok := r.Context().Value(connContextKey{}).(net.Conn)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	abortConn(conn)
}

// abortConn closes conn's TCP connection with SO_LINGER 0, so the peer gets an RST instead of a
// FIN (and no TLS close_notify).
func abortConn(conn net.Conn) {
	if tlsConn, ok := conn.(*tls.Conn); ok {
		conn = tlsConn.NetConn()
	}
	if tcpConn, ok := conn.(*net.TCPConn); ok {
		_ = tcpConn.SetLinger(0)
	}
	_ = conn.Close()
}

// authenticateCaller checks the proxy's own bearer token the way the API server does: no bearer
// token means system:anonymous (403 on create), a wrong one is 401.
func (s *server) authenticateCaller(w http.ResponseWriter, r *http.Request, kind reviewKind) bool {
	if s.callerToken == "" {
		return true
	}
	presented := ""
	parts := strings.SplitN(r.Header.Get("Authorization"), " ", 2)
	if len(parts) == 2 && strings.EqualFold(parts[0], "bearer") {
		presented = strings.TrimSpace(parts[1])
	}
	switch presented {
	case s.callerToken:
		return true
	case "":
		writeStatus(w, failure(http.StatusForbidden, "Forbidden",
			fmt.Sprintf("%s.%s is forbidden: User \"system:anonymous\" cannot create resource %q in API group %q at the cluster scope",
				kind.resource, kind.group, kind.resource, kind.group),
			&statusDetails{Group: kind.group, Kind: kind.resource}))
	default:
		writeStatus(w, failure(http.StatusUnauthorized, "Unauthorized", "Unauthorized", nil))
	}
	return false
}

// decodeReview parses a review body like the API server: JSON errors and a wrong
// apiVersion/kind are 400 Status objects.
func decodeReview(w http.ResponseWriter, body []byte, kind reviewKind, apiVersion string, into interface{}) bool {
	var typeMeta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	err := json.Unmarshal(body, &typeMeta)
	if err == nil {
		err = json.Unmarshal(body, into)
	}
	if err != nil {
		excerpt := string(body)
		if len(excerpt) > 30 {
			excerpt = excerpt[:30] + " ..."
		}
		writeStatus(w, failure(http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("the object provided is unrecognized (must be of type %s): couldn't get version/kind; json parse error: %v (%s)",
				kind.kind, err, excerpt), nil))
		return false
	}
	if (typeMeta.APIVersion != "" && typeMeta.APIVersion != apiVersion) || (typeMeta.Kind != "" && typeMeta.Kind != kind.kind) {
		writeStatus(w, failure(http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("the object provided is unrecognized (must be of type %s): got apiVersion %q kind %q",
				kind.kind, typeMeta.APIVersion, typeMeta.Kind), nil))
		return false
	}
	return true
}

// createdMeta is the metadata of a created review: a null timestamp and the managedFields entry
// the API server adds for the fields the client set.
func createdMeta(r *http.Request, apiVersion string, spec interface{}) objectMeta {
	manager := strings.SplitN(r.UserAgent(), "/", 2)[0]
	if manager == "" {
		manager = "unknown"
	}
	encoded, _ := json.Marshal(spec)
	var fields map[string]interface{}
	_ = json.Unmarshal(encoded, &fields)
	return objectMeta{ManagedFields: []managedField{{
		Manager:    manager,
		Operation:  "Update",
		APIVersion: apiVersion,
		Time:       time.Now().UTC().Format(time.RFC3339),
		FieldsType: "FieldsV1",
		FieldsV1:   map[string]interface{}{"f:spec": fieldSet(fields, false)},
	}}}
}

// fieldSet turns set JSON fields into the FieldsV1 form: {"f:name": {}}; nested objects also get ".".
func fieldSet(fields map[string]interface{}, nested bool) map[string]interface{} {
	set := map[string]interface{}{}
	if nested {
		set["."] = map[string]interface{}{}
	}
	for name, value := range fields {
		if object, ok := value.(map[string]interface{}); ok {
			set["f:"+name] = fieldSet(object, true)
		} else {
			set["f:"+name] = map[string]interface{}{}
		}
	}
	return set
}

func (s *server) reviewToken(w http.ResponseWriter, r *http.Request, body []byte) {
	var review tokenReview
	if !decodeReview(w, body, tokenReviewKind, authenticationAPI, &review) {
		return
	}
	if review.Spec.Token == "" {
		writeStatus(w, failure(http.StatusBadRequest, "BadRequest", "token is required for TokenReview in authentication", nil))
		return
	}
	review.Kind, review.APIVersion = tokenReviewKind.kind, authenticationAPI
	review.Metadata = createdMeta(r, authenticationAPI, review.Spec)
	review.Status = tokenReviewStatus{}

	entry, known := s.users[review.Spec.Token]
	tokenAudiences := entry.Audiences
	if len(tokenAudiences) == 0 {
		tokenAudiences = []string{defaultAudience}
	}
	targetAudiences := review.Spec.Audiences
	if len(targetAudiences) == 0 {
		targetAudiences = []string{defaultAudience}
	}
	granted := intersect(tokenAudiences, targetAudiences)
	switch {
	case !known:
		review.Status.Error = "invalid bearer token"
	case len(granted) == 0:
		review.Status.Error = fmt.Sprintf("[invalid bearer token, token audiences %q is invalid for the target audiences %q]",
			tokenAudiences, targetAudiences)
	default:
		review.Status = tokenReviewStatus{
			Authenticated: true,
			User:          userInfo{Username: entry.Username, UID: entry.UID, Groups: entry.Groups},
			Audiences:     granted,
		}
	}
	writeJSON(w, http.StatusCreated, review)
}

func intersect(a, b []string) []string {
	var both []string
	for _, x := range b {
		for _, y := range a {
			if x == y {
				both = append(both, x)
				break
			}
		}
	}
	return both
}

func (s *server) reviewAccess(w http.ResponseWriter, r *http.Request, body []byte) {
	var review subjectAccessReview
	if !decodeReview(w, body, subjectAccessReviewKind, authorizationAPI, &review) {
		return
	}
	if causes := validateAccessSpec(review.Spec); len(causes) > 0 {
		writeStatus(w, invalid(causes))
		return
	}
	review.Kind, review.APIVersion = subjectAccessReviewKind.kind, authorizationAPI
	review.Metadata = createdMeta(r, authorizationAPI, review.Spec)
	review.Status = subjectAccessReviewStatus{}
	if contains(review.Spec.Groups, "system:masters") {
		// The API server's privileged-group authorizer allows these before RBAC, without a reason.
		review.Status.Allowed = true
		writeJSON(w, http.StatusCreated, review)
		return
	}
	for _, candidate := range s.rules {
		if subject, ok := candidate.grants(review.Spec); ok {
			review.Status = subjectAccessReviewStatus{Allowed: true, Reason: fmt.Sprintf(
				"RBAC: allowed by ClusterRoleBinding \"pprof-reader-%s\" of ClusterRole \"pprof-reader\" to %s",
				subject.name, subject)}
			break
		}
	}
	writeJSON(w, http.StatusCreated, review)
}

// validateAccessSpec applies the API server's SubjectAccessReview spec validation.
func validateAccessSpec(spec subjectAccessReviewSpec) []statusCause {
	var causes []statusCause
	if spec.ResourceAttributes != nil && spec.NonResourceAttributes != nil {
		causes = append(causes, statusCause{Reason: "FieldValueInvalid", Field: "spec.nonResourceAttributes",
			Message: fmt.Sprintf("Invalid value: authorization.NonResourceAttributes{Path:%q, Verb:%q}: cannot be specified in combination with resourceAttributes",
				spec.NonResourceAttributes.Path, spec.NonResourceAttributes.Verb)})
	}
	if spec.ResourceAttributes == nil && spec.NonResourceAttributes == nil {
		causes = append(causes, statusCause{Reason: "FieldValueInvalid", Field: "spec.resourceAttributes",
			Message: `Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`})
	}
	if spec.User == "" && len(spec.Groups) == 0 {
		causes = append(causes, statusCause{Reason: "FieldValueInvalid", Field: "spec.user",
			Message: `Invalid value: "": at least one of user or group must be specified`})
	}
	return causes
}

// invalid builds the 422 Status for validation failures, worded like the API server.
func invalid(causes []statusCause) status {
	described := make([]string, len(causes))
	for i, cause := range causes {
		described[i] = cause.Field + ": " + cause.Message
	}
	summary := described[0]
	if len(described) > 1 {
		summary = "[" + strings.Join(described, ", ") + "]"
	}
	return failure(http.StatusUnprocessableEntity, "Invalid",
		`.authorization.k8s.io "" is invalid: `+summary,
		&statusDetails{Group: subjectAccessReviewKind.group, Causes: causes})
}

// subject is who a rule granted access to, printed the way RBAC reasons print it.
type subject struct {
	kind, name string
}

func (s subject) String() string { return fmt.Sprintf("%s %q", s.kind, s.name) }

// grants reports whether the rule allows the review's request, and to which subject.
func (ru rule) grants(spec subjectAccessReviewSpec) (subject, bool) {
	var who subject
	switch {
	case ru.User != "" && ru.User == spec.User:
		who = subject{"User", ru.User}
	case ru.Group != "" && contains(spec.Groups, ru.Group):
		who = subject{"Group", ru.Group}
	default:
		return who, false
	}
	if spec.NonResourceAttributes != nil {
		attributes := spec.NonResourceAttributes
		return who, ru.Resource == nil && verbMatches(ru.Verbs, attributes.Verb) && pathMatches(ru.Paths, attributes.Path)
	}
	attributes := spec.ResourceAttributes
	if ru.Resource == nil || !verbMatches(ru.Verbs, attributes.Verb) {
		return who, false
	}
	actual := map[string]string{
		"namespace": attributes.Namespace, "group": attributes.Group, "version": attributes.Version,
		"resource": attributes.Resource, "subresource": attributes.Subresource, "name": attributes.Name,
	}
	for key, want := range ru.Resource {
		if want != "*" && actual[key] != want {
			return who, false
		}
	}
	return who, true
}

func contains(values []string, value string) bool {
	for _, v := range values {
		if v == value {
			return true
		}
	}
	return false
}

func verbMatches(verbs []string, verb string) bool {
	return contains(verbs, "*") || contains(verbs, verb)
}

// pathMatches follows RBAC nonResourceURLs: a trailing "*" is a prefix match, otherwise exact.
func pathMatches(patterns []string, path string) bool {
	for _, pattern := range patterns {
		if strings.HasSuffix(pattern, "*") {
			if strings.HasPrefix(path, strings.TrimSuffix(pattern, "*")) {
				return true
			}
		} else if pattern == path {
			return true
		}
	}
	return false
}

func (s *server) serveCalls(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	calls := map[string]int{"tokenreviews": s.tokenReviews, "subjectaccessreviews": s.subjectAccessReviews}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, calls)
}

func (s *server) serveRequests(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	bodies := append([]json.RawMessage{}, s.requestBodies...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, bodies)
}

func (s *server) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	s.tokenReviews, s.subjectAccessReviews, s.requestBodies = 0, 0, nil
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) serveMode(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64))
	text := strings.TrimSpace(string(body))
	mode, ok := parseMode(text)
	if !ok {
		http.Error(w, "mode must be normal, error500, error429, garbage, wrong-kind, hang, slow:<Go duration> or reset",
			http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.mode = mode
	s.mu.Unlock()
	fmt.Printf("mode %s\n", text)
	w.WriteHeader(http.StatusNoContent)
}

// routes serves the review APIs, the control endpoints and a 404 Status for everything else.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(tokenReviewPath, s.serveReview(tokenReviewKind, s.reviewToken))
	mux.HandleFunc(subjectAccessReviewPath, s.serveReview(subjectAccessReviewKind, s.reviewAccess))
	mux.HandleFunc("/control/calls", s.serveCalls)
	mux.HandleFunc("/control/requests", s.serveRequests)
	mux.HandleFunc("/control/reset", s.serveReset)
	mux.HandleFunc("/control/mode", s.serveMode)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, failure(http.StatusNotFound, "NotFound", "the server could not find the requested resource", &statusDetails{}))
	})
	return mux
}

// logRequests prints one line per request (never a token) for debugging failed tests.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recorder := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		started := time.Now()
		next.ServeHTTP(recorder, r)
		fmt.Printf("request method=%s path=%s status=%d duration=%.3fs\n",
			r.Method, r.URL.Path, recorder.status, time.Since(started).Seconds())
	})
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Hijack hands over an HTTP/1.x connection (reset mode); an HTTP/2 stream cannot be hijacked.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hijacker, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hijacker.Hijack()
}

// generateCertificates makes an in-memory CA and a serving certificate for 127.0.0.1 and
// localhost (ECDSA P-256), writes the CA to dir/ca.crt and returns the serving certificate.
func generateCertificates(dir string) (tls.Certificate, error) {
	notBefore := time.Now().Add(-time.Hour)
	notAfter := time.Now().Add(48 * time.Hour)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "fake-apiserver-ca"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	caCertificate, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, err
	}

	servingKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	servingTemplate := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "fake-apiserver"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	servingDER, err := x509.CreateCertificate(rand.Reader, servingTemplate, caCertificate, &servingKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}

	// Write then rename, so a reader never sees a half-written file.
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	temporary := filepath.Join(dir, ".ca.crt.tmp")
	if err := os.WriteFile(temporary, caPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	if err := os.Rename(temporary, filepath.Join(dir, "ca.crt")); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{servingDER}, PrivateKey: servingKey}, nil
}

func randomSerial() *big.Int {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return serial
}

// readJSONFile decodes path into value; an empty path leaves value untouched.
func readJSONFile(path string, value interface{}) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(value); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	certDir := flag.String("cert-dir", "", "directory to write ca.crt to (required)")
	callerToken := flag.String("caller-token", "", "bearer token callers must present (empty: anyone)")
	usersFile := flag.String("users", "", `JSON {"<token>": {"username", "uid", "groups", "audiences"}}`)
	rulesFile := flag.String("rules", "", `JSON [{"user", "group", "paths", "verbs", "resource"}]`)
	flag.Parse()
	if *certDir == "" {
		return errors.New("-cert-dir is required")
	}

	s := &server{callerToken: *callerToken, users: map[string]user{}, mode: reviewMode{name: modeNormal}}
	if err := readJSONFile(*usersFile, &s.users); err != nil {
		return err
	}
	if err := readJSONFile(*rulesFile, &s.rules); err != nil {
		return err
	}
	certificate, err := generateCertificates(*certDir)
	if err != nil {
		return fmt.Errorf("generating certificates: %w", err)
	}

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	httpServer := &http.Server{
		Handler:     logRequests(s.routes()),
		TLSConfig:   &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12},
		ConnContext: rememberConn,
	}
	fmt.Printf("listening on %s\n", listener.Addr())
	// ServeTLS offers h2 and http/1.1 through ALPN, like the real API server.
	return httpServer.ServeTLS(listener, "", "")
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "fake-apiserver: %v\n", err)
		os.Exit(1)
	}
}
