// Package harness is what tools/bench and tools/soak share: child processes in process groups of
// their own that are all killed at the end (also on Ctrl-C), figures read from /proc, and the
// pieces of a proxy set-up (certificates, tokens, tools/pprof-server, tools/fake-apiserver with a
// kubeconfig for the proxy, the proxy's command line).
package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a child process the harness started. Its stdout and stderr go to one log file (a file,
// not a pipe, so a chatty child never blocks on the harness and the harness spends no CPU on it).
// Every child gets a process group of its own: stopping kills the group, which takes nginx's
// workers along with its master.
type Proc struct {
	Name    string
	LogPath string
	Started time.Time // just before fork/exec
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

var children struct {
	sync.Mutex
	procs  []*Proc
	tools  map[*os.Process]bool // load generators running now (they share the harness's group)
	closed bool                 // StopAll ran: nothing new may start
}

// ErrStopping is what Start returns once StopAll has run.
var ErrStopping = fmt.Errorf("stopping: no new processes")

// Start starts argv with its output in logPath.
func Start(name, logPath string, argv ...string) (*Proc, error) {
	file, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer file.Close() // the child has its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = file
	cmd.Stderr = file
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Proc{Name: name, cmd: cmd, LogPath: logPath, exited: make(chan struct{})}
	children.Lock()
	defer children.Unlock()
	if children.closed {
		return nil, ErrStopping
	}
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	children.procs = append(children.procs, p)
	return p, nil
}

// PID is the process's id (and its process group's).
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited says whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Stop asks the process to end (SIGTERM: nginx's master then ends and reaps its workers), kills
// its whole group after 3 s or once it has gone, and waits for it.
func (p *Proc) Stop() {
	if p == nil {
		return
	}
	_ = syscall.Kill(p.PID(), syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
	children.Lock()
	for i, other := range children.procs {
		if other == p {
			children.procs = append(children.procs[:i], children.procs[i+1:]...)
			break
		}
	}
	children.Unlock()
}

// StopAll kills every child still registered (at exit, also after Ctrl-C); nothing new starts
// after it.
func StopAll() {
	children.Lock()
	children.closed = true
	procs := append([]*Proc(nil), children.procs...)
	for tool := range children.tools {
		_ = tool.Kill()
	}
	children.Unlock()
	for _, p := range procs {
		p.Stop()
	}
}

// TrackTool registers a running load generator for StopAll; the returned function forgets it.
func TrackTool(process *os.Process) func() {
	children.Lock()
	defer children.Unlock()
	if children.closed {
		_ = process.Kill()
	}
	if children.tools == nil {
		children.tools = map[*os.Process]bool{}
	}
	children.tools[process] = true
	return func() {
		children.Lock()
		defer children.Unlock()
		delete(children.tools, process)
	}
}

// RunTool runs a short-lived program (a load generator, a certs/ script) and returns its standard
// output (stderr appended on failure). StopAll kills it.
func RunTool(timeout time.Duration, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("%s: %v", argv[0], err)
	}
	forget := TrackTool(cmd.Process)
	err := cmd.Wait()
	forget()
	if err != nil {
		return stdout.String(), fmt.Errorf("%s: %v\n%s%s", strings.Join(argv, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// Died describes an exit, with the end of the log.
func (p *Proc) Died() error {
	return fmt.Errorf("%s exited (%v); last lines of %s:\n%s", p.Name, p.waitErr, p.LogPath, Tail(p.LogPath, 15))
}

// WaitForLine polls the log until re matches and returns the first submatch.
func (p *Proc) WaitForLine(re *regexp.Regexp, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if data, err := os.ReadFile(p.LogPath); err == nil {
			if m := re.FindSubmatch(data); m != nil {
				return string(m[1]), nil
			}
		}
		if p.Exited() {
			return "", p.Died()
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s did not print %q within %v; last lines of %s:\n%s", p.Name, re, timeout, p.LogPath, Tail(p.LogPath, 15))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var listeningLine = regexp.MustCompile(`listening on (?:https?://)?(\S+)`)

// StartListening starts argv like Start and waits (30 s at most) for its "listening on ADDR"
// line; it returns the process and ADDR, or stops the process and returns the error.
func StartListening(name, logPath string, argv ...string) (*Proc, string, error) {
	p, err := Start(name, logPath, argv...)
	if err != nil {
		return nil, "", err
	}
	addr, err := p.WaitListening(30 * time.Second)
	if err != nil {
		p.Stop()
		return nil, "", err
	}
	return p, addr, nil
}

// WaitListening waits for the "listening on ADDR" line and returns ADDR.
func (p *Proc) WaitListening(timeout time.Duration) (string, error) {
	return p.WaitForLine(listeningLine, timeout)
}

// WaitAccepting tries a TCP connect every millisecond until one succeeds and returns the time
// since the process was started.
func (p *Proc) WaitAccepting(addr string, timeout time.Duration) (time.Duration, error) {
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			elapsed := time.Since(p.Started)
			conn.Close()
			return elapsed, nil
		}
		if p.Exited() {
			return 0, p.Died()
		}
		if time.Since(p.Started) > timeout {
			return 0, fmt.Errorf("%s did not accept connections on %s within %v: %v", p.Name, addr, timeout, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// Tail is the last lines of a file, indented, for error messages.
func Tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return "    " + strings.Join(all, "\n    ")
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port, nil
}
