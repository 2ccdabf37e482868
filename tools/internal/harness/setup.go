package harness

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Setup is where a run's programs and files are.
type Setup struct {
	ToolsDir string // the built pprof-server and fake-apiserver
	WorkDir  string // certificates, configuration files and every process's log
}

// LogPath is the log file of the process called name.
func (s Setup) LogPath(name string) string { return filepath.Join(s.WorkDir, name+".log") }

// StartUpstream starts tools/pprof-server on addr without recording (extra: e.g. -h2c) and
// returns it with the address it bound.
func (s Setup) StartUpstream(name, addr string, extra ...string) (*Proc, string, error) {
	argv := append([]string{filepath.Join(s.ToolsDir, "pprof-server"), "-addr", addr, "-record=false"}, extra...)
	return StartListening(name, s.LogPath(name), argv...)
}

// StartAPIServer starts tools/fake-apiserver with its certificates in dir, accepting the caller
// token and answering from the users and rules files (see WriteReader), and writes a kubeconfig
// for the proxy beside them. It returns the server, its address and the kubeconfig's path.
func (s Setup) StartAPIServer(name, dir, caller, users, rules string) (*Proc, string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", "", err
	}
	p, addr, err := StartListening(name, s.LogPath(name), filepath.Join(s.ToolsDir, "fake-apiserver"),
		"-addr", "127.0.0.1:0", "-cert-dir", dir, "-caller-token", caller, "-users", users, "-rules", rules)
	if err != nil {
		return nil, "", "", err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://%s", certificate-authority: %q}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`, addr, filepath.Join(dir, "ca.crt"), caller)
	if err := os.WriteFile(kubeconfig, []byte(content), 0o600); err != nil {
		p.Stop()
		return nil, "", "", err
	}
	return p, addr, kubeconfig, nil
}

// RandomToken is prefix followed by 32 random hex digits.
func RandomToken(prefix string) string {
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(buf)
}

// MakeCerts makes a CA and a serving certificate for SERVICE.NAMESPACE, localhost and 127.0.0.1
// in dir (ca.crt, tls.crt, tls.key) with the repository's certs/ scripts, and returns a pool
// trusting the CA.
func MakeCerts(repoDir, dir, caName, service, namespace string) (*x509.CertPool, error) {
	for _, argv := range [][]string{
		{filepath.Join(repoDir, "certs", "make-ca"), "--dir", dir, "--name", caName},
		{filepath.Join(repoDir, "certs", "make-serving-cert"), "--dir", dir, service, namespace},
	} {
		if _, err := RunTool(time.Minute, argv...); err != nil {
			return nil, err
		}
	}
	pem, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool, nil
}

// WriteReader writes dir/users.json and dir/rules.json for tools/fake-apiserver: token
// authenticates user (uid "uid-USER") in group, and the group may GET /debug/pprof and
// /debug/pprof/*. It returns the two paths.
func WriteReader(dir, token, user, group string) (users, rules string, err error) {
	users = filepath.Join(dir, "users.json")
	rules = filepath.Join(dir, "rules.json")
	usersJSON := fmt.Sprintf(`{%q: {"username": %q, "uid": %q, "groups": [%q], "audiences": []}}`+"\n", token, user, "uid-"+user, group)
	rulesJSON := fmt.Sprintf(`[{"group": %q, "paths": ["/debug/pprof", "/debug/pprof/*"], "verbs": ["get"]}]`+"\n", group)
	if err := os.WriteFile(users, []byte(usersJSON), 0o600); err != nil {
		return "", "", err
	}
	return users, rules, os.WriteFile(rules, []byte(rulesJSON), 0o644)
}

// ProxyArgv is the proxy's command line in Kubernetes mode: TLS on listen with certsDir's
// tls.crt and tls.key, forwarding to upstream (a URL), reviews through kubeconfig; every other
// flag at its default.
func ProxyArgv(binary, listen, upstream, kubeconfig, certsDir string) []string {
	return []string{binary,
		"--secure-listen-address", listen,
		"--upstream", upstream,
		"--kubeconfig", kubeconfig,
		"--tls-cert-file", filepath.Join(certsDir, "tls.crt"),
		"--tls-private-key-file", filepath.Join(certsDir, "tls.key"),
	}
}

// APICalls asks a fake API server (its CA in caFile) how many TokenReviews and
// SubjectAccessReviews it answered: {"tokenreviews": N, "subjectaccessreviews": M}.
func APICalls(addr, caFile, caller string) (map[string]int, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: 30 * time.Second, Transport: transport}
	request, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/control/calls", nil)
	request.Header.Set("Authorization", "Bearer "+caller)
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /control/calls: status %d", response.StatusCode)
	}
	calls := map[string]int{}
	return calls, json.NewDecoder(response.Body).Decode(&calls)
}

// Prepare checks that the proxy binary and the Go tools exist (command names the script that
// builds them), empties the work directory, and makes a CA and a serving certificate for service
// in its certs folder (see MakeCerts). It returns the certificates' folder and the CA's certificate pool.
func (s Setup) Prepare(command, repoDir, proxyBin, caName, service string) (string, *x509.CertPool, error) {
	for _, binary := range []string{proxyBin, filepath.Join(s.ToolsDir, "pprof-server"), filepath.Join(s.ToolsDir, "fake-apiserver")} {
		if info, err := os.Stat(binary); err != nil || info.IsDir() {
			return "", nil, fmt.Errorf("%s is missing: %s builds it (or pass -proxy / -tools)", binary, command)
		}
	}
	if err := os.RemoveAll(s.WorkDir); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(s.WorkDir, 0o755); err != nil {
		return "", nil, err
	}
	certs := filepath.Join(s.WorkDir, "certs")
	ca, err := MakeCerts(repoDir, certs, caName, service, "local")
	return certs, ca, err
}

// WriteJSON writes value, indented, to path, making its folder.
func WriteJSON(path string, value interface{}) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
