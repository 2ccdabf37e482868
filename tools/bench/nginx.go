package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pprof-rbac-proxy/tools/internal/harness"
)

// findNginx decides whether nginx is measured; b.nginxWhy says why not.
func (b *bench) findNginx() {
	if !b.cfg.targets["nginx"] {
		b.nginxWhy = "not requested (-targets)"
		return
	}
	if b.cfg.nginxBin == "" {
		if path, err := exec.LookPath("nginx"); err == nil {
			b.cfg.nginxBin = path
		} else if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
			b.cfg.nginxBin = "/usr/sbin/nginx"
		}
	}
	if b.cfg.nginxBin == "" {
		b.nginxWhy = "nginx is not installed (scripts/bench installs nginx-light when run as root)"
		b.report.skip("the nginx column: %s", b.nginxWhy)
		return
	}
	out, err := exec.Command(b.cfg.nginxBin, "-V").CombinedOutput()
	if err != nil {
		b.nginxWhy = fmt.Sprintf("%s -V: %v", b.cfg.nginxBin, err)
		b.report.skip("the nginx column: %s", b.nginxWhy)
		b.cfg.nginxBin = ""
		return
	}
	if !strings.Contains(string(out), "--with-http_ssl_module") {
		b.nginxWhy = b.cfg.nginxBin + " has no http_ssl_module"
		b.report.skip("the nginx column: %s", b.nginxWhy)
		b.cfg.nginxBin = ""
	}
}

func (b *bench) nginxHasHTTP2() bool {
	out, _ := exec.Command(b.cfg.nginxBin, "-V").CombinedOutput()
	return strings.Contains(string(out), "--with-http_v2_module")
}

// nginxConfig writes PREFIX/nginx.conf: a TLS reverse proxy on port with HTTP/2, a static
// bearer-token check and a keep-alive upstream, everything (pid, logs, temp files) inside prefix.
func (b *bench) nginxConfig(prefix string, port int) (string, error) {
	if err := os.MkdirAll(filepath.Join(prefix, "temp"), 0o755); err != nil {
		return "", err
	}
	user := ""
	if os.Geteuid() == 0 {
		// Without it a root master runs its workers as nobody, who cannot enter the 0700 scratch
		// directories; nothing here needs the privilege drop.
		user = "user root;\n"
	}
	http2 := ""
	if b.nginxHasHTTP2() {
		http2 = " http2" // nginx 1.22 (Debian bookworm): the listen parameter
	}
	conf := fmt.Sprintf(`# Written by tools/bench: an nginx of its own, never the system one.
%[1]sworker_processes 2;        # the proxy runs two event loops on this machine's two cores
worker_rlimit_nofile %[8]d;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events {
    # Enough for the largest figure (each stream holds a client and an upstream connection) and
    # no more: nginx allocates and touches its connection table up front, so a larger table
    # would inflate its idle RSS.
    worker_connections %[9]d;
}
http {
    access_log %[2]s/access.log;  # the proxy logs every request too
    client_body_temp_path %[2]s/temp/body;
    proxy_temp_path %[2]s/temp/proxy;
    fastcgi_temp_path %[2]s/temp/fastcgi;
    uwsgi_temp_path %[2]s/temp/uwsgi;
    scgi_temp_path %[2]s/temp/scgi;
    keepalive_requests 1000000;    # default 1000: wrk would reconnect every 1000 requests; the proxy never makes it
    keepalive_timeout 600s;

    upstream pprof {
        server %[3]s;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:%[4]d ssl%[5]s;
        ssl_certificate %[6]s/tls.crt;
        ssl_certificate_key %[6]s/tls.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            if ($http_authorization != "Bearer %[7]s") {
                return 401;
            }
            proxy_pass http://pprof;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "";
            proxy_buffering off;%[10]s
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
        }
    }
}
`, user, prefix, b.upstreamAddr, port, http2, absolute(b.certs), b.token, fileLimit(), b.workerConnections(), b.nginxBufferDirectives())
	path := filepath.Join(prefix, "nginx.conf")
	return path, os.WriteFile(path, []byte(conf), 0o600)
}

// nginxBufferDirectives sets proxy_buffer_size from -nginx-buffer (with proxy_buffers and
// proxy_busy_buffers_size to match, which nginx insists on).
func (b *bench) nginxBufferDirectives() string {
	size := b.cfg.nginxBuffer
	if size == "" {
		return ""
	}
	return fmt.Sprintf("\n            proxy_buffer_size %s;\n            proxy_buffers 4 %s;\n            proxy_busy_buffers_size %s;", size, size, size)
}

// workerConnections is what one nginx worker may need: every concurrent stream (a client and an
// upstream connection each, possibly all in one worker) plus the load generators' connections.
func (b *bench) workerConnections() int {
	n := 2*b.cfg.streams + 2*b.cfg.connections + 128
	if n < 1024 {
		n = 1024
	}
	return n
}

// fileLimit is the hard open-file limit, at most 65536 (what the workers may raise theirs to).
func fileLimit() uint64 {
	var limit syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit) != nil || limit.Max > 65536 {
		return 65536
	}
	return limit.Max
}

func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// startNginx writes a configuration in prefix and starts nginx in the foreground; it returns
// once the port accepts connections, with the time that took since exec.
func (b *bench) startNginx(name, prefix string, port int) (*harness.Proc, time.Duration, error) {
	prefix = absolute(prefix)
	conf, err := b.nginxConfig(prefix, port)
	if err != nil {
		return nil, 0, err
	}
	p, err := harness.Start(name, b.logPath(name), b.cfg.nginxBin, "-p", prefix, "-c", conf,
		"-e", filepath.Join(prefix, "error.log"), "-g", "daemon off;")
	if err != nil {
		return nil, 0, err
	}
	ready, err := p.WaitAccepting(fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second)
	if err != nil {
		p.Stop()
		return nil, 0, fmt.Errorf("%v\nerror.log:\n%s", err, harness.Tail(filepath.Join(prefix, "error.log"), 10))
	}
	return p, ready, nil
}

// waitWorkers waits until nginx's master has forked its workers.
func waitWorkers(p *harness.Proc, workers int) {
	deadline := time.Now().Add(5 * time.Second)
	for len(harness.ProcessTree(p.PID())) < workers+1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// Machine describes where the run happened.
type Machine struct {
	CPUs          int               `json:"cpus"`
	CPUModel      string            `json:"cpuModel"`
	Kernel        string            `json:"kernel"`
	Memory        string            `json:"memory"`
	OpenFileLimit string            `json:"openFileLimit"`
	Versions      map[string]string `json:"versions"`
}

func describeMachine(cfg config) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Versions: map[string]string{}}
	if out, err := exec.Command("nproc").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
			m.CPUs = n
		}
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if match := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindStringSubmatch(string(data)); match != nil {
			m.CPUModel = strings.TrimSpace(match[1])
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if kib, err := harness.KiBField("/proc/meminfo", "MemTotal"); err == nil {
		m.Memory = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
	}
	var limit syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit) == nil {
		m.OpenFileLimit = fmt.Sprintf("%d (hard %d)", limit.Cur, limit.Max)
	}
	nginx := cfg.nginxBin
	if nginx == "" {
		nginx = "nginx"
		if _, err := exec.LookPath(nginx); err != nil {
			nginx = "/usr/sbin/nginx"
		}
	}
	versions := []struct {
		name    string
		argv    []string
		pattern string
	}{
		{"proxy", []string{cfg.proxyBin, "--version"}, `pprof-rbac-proxy (\S+)`},
		{"swift", []string{"swift", "--version"}, `Swift version (\S+)`},
		{"go", []string{"go", "version"}, `go version go(\S+)`},
		{"nginx", []string{nginx, "-v"}, `nginx/(\S+)`},
		{"wrk", []string{"wrk", "--version"}, `wrk (\S+)`},
		{"h2load", []string{"h2load", "--version"}, `h2load nghttp2/(\S+)`},
		{"curl", []string{"curl", "--version"}, `curl (\S+)`},
	}
	for _, v := range versions {
		out, _ := exec.Command(v.argv[0], v.argv[1:]...).CombinedOutput()
		if match := regexp.MustCompile(v.pattern).FindSubmatch(out); match != nil {
			m.Versions[v.name] = string(match[1])
		} else {
			m.Versions[v.name] = "not found"
		}
	}
	return m
}
