package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process the harness started. Its stdout and stderr go to one log file (a file,
// not a pipe, so a chatty child never blocks on the harness and the harness spends no CPU on it).
// Every child gets a process group of its own: stopping kills the group, which takes nginx's
// workers along with its master.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	started time.Time // just before fork/exec
	exited  chan struct{}
	waitErr error
}

var children struct {
	sync.Mutex
	procs  []*proc
	tools  map[*os.Process]bool // load generators running now (they share the harness's group)
	closed bool                 // stopAll ran: nothing new may start
}

var errStopping = fmt.Errorf("stopping: no new processes")

// startProc starts argv with its output in logPath.
func startProc(name, logPath string, argv ...string) (*proc, error) {
	file, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer file.Close() // the child has its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = file
	cmd.Stderr = file
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &proc{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	children.Lock()
	defer children.Unlock()
	if children.closed {
		return nil, errStopping
	}
	p.started = time.Now()
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

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop asks the process to end (SIGTERM: nginx's master then ends and reaps its workers), kills
// its whole group after 3 s or once it has gone, and waits for it.
func (p *proc) stop() {
	if p == nil {
		return
	}
	_ = syscall.Kill(p.pid(), syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
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

// stopAll kills every child still registered (at exit, also after Ctrl-C).
func stopAll() {
	children.Lock()
	children.closed = true
	procs := append([]*proc(nil), children.procs...)
	for tool := range children.tools {
		_ = tool.Kill()
	}
	children.Unlock()
	for _, p := range procs {
		p.stop()
	}
}

// trackTool registers a running load generator for stopAll; the returned function forgets it.
func trackTool(process *os.Process) func() {
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

// died describes an exit, with the end of the log.
func (p *proc) died() error {
	return fmt.Errorf("%s exited (%v); last lines of %s:\n%s", p.name, p.waitErr, p.logPath, tail(p.logPath, 15))
}

// waitForLine polls the log until re matches and returns the first submatch.
func (p *proc) waitForLine(re *regexp.Regexp, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if data, err := os.ReadFile(p.logPath); err == nil {
			if m := re.FindSubmatch(data); m != nil {
				return string(m[1]), nil
			}
		}
		if p.hasExited() {
			return "", p.died()
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s did not print %q within %v; last lines of %s:\n%s", p.name, re, timeout, p.logPath, tail(p.logPath, 15))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var listeningLine = regexp.MustCompile(`listening on (?:https?://)?(\S+)`)

// waitListening waits for the "listening on ADDR" line and returns ADDR.
func (p *proc) waitListening(timeout time.Duration) (string, error) {
	return p.waitForLine(listeningLine, timeout)
}

// waitAccepting tries a TCP connect every millisecond until one succeeds and returns the time
// since the process was started.
func (p *proc) waitAccepting(addr string, timeout time.Duration) (time.Duration, error) {
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			elapsed := time.Since(p.started)
			conn.Close()
			return elapsed, nil
		}
		if p.hasExited() {
			return 0, p.died()
		}
		if time.Since(p.started) > timeout {
			return 0, fmt.Errorf("%s did not accept connections on %s within %v: %v", p.name, addr, timeout, err)
		}
		time.Sleep(time.Millisecond)
	}
}

func tail(path string, lines int) string {
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

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port, nil
}

// Memory figures from /proc.

// statusKiB reads a "Field:  N kB" line of /proc/PID/status.
func statusKiB(pid int, field string) (int64, error) {
	return kiBField(fmt.Sprintf("/proc/%d/status", pid), field)
}

func kiBField(path, field string) (int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	prefix := field + ":"
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, prefix) {
			fields := strings.Fields(strings.TrimPrefix(line, prefix))
			if len(fields) == 0 {
				break
			}
			return strconv.ParseInt(fields[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, field)
}

// processTree is pid and its descendants (nginx: the master and its workers).
func processTree(pid int) []int {
	pids := []int{pid}
	for i := 0; i < len(pids); i++ {
		pids = append(pids, childPIDs(pids[i])...)
	}
	return pids
}

func childPIDs(pid int) []int {
	var found []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, task := range tasks {
		data, err := os.ReadFile(task)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			if child, err := strconv.Atoi(field); err == nil {
				found = append(found, child)
			}
		}
	}
	if len(tasks) > 0 {
		return found
	}
	// No /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN off): scan every process's parent.
	entries, _ := os.ReadDir("/proc")
	for _, entry := range entries {
		child, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
		rest := data[bytes.LastIndexByte(data, ')')+1:]
		fields := strings.Fields(string(rest))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			found = append(found, child)
		}
	}
	return found
}

// sumKiB adds field over pids (a process that is gone counts 0).
func sumKiB(pids []int, field string) int64 {
	var total int64
	for _, pid := range pids {
		if value, err := statusKiB(pid, field); err == nil {
			total += value
		}
	}
	return total
}

// sumPssKiB adds the proportional set size over pids (shared pages divided among their users).
func sumPssKiB(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		if value, err := kiBField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss"); err == nil {
			total += value
		}
	}
	return total
}

// peakProbe measures the peak resident set of a set of processes over an interval: VmHWM after
// resetting it through clear_refs, and VmRSS sampled every 50 ms as the fallback.
type peakProbe struct {
	pids     []int
	before   int64
	resetErr error
	stop     chan struct{}
	done     chan struct{}
	sampled  int64
}

// PeakResult is what a peakProbe found, in KiB.
type PeakResult struct {
	Processes  int    `json:"processes"`
	BeforeKiB  int64  `json:"beforeKiB"`
	AfterKiB   int64  `json:"afterKiB"`             // VmRSS when the figure ended
	SettledKiB int64  `json:"settledKiB,omitempty"` // VmRSS a while later, where measured
	HWMKiB     int64  `json:"hwmKiB,omitempty"`     // sum of VmHWM after clear_refs (0: not permitted)
	SampledKiB int64  `json:"sampledKiB"`           // largest sum of VmRSS seen every 50 ms
	PeakKiB    int64  `json:"peakKiB"`              // hwm if available, else sampled
	Method     string `json:"method"`
}

func startPeak(pids []int) *peakProbe {
	probe := &peakProbe{pids: pids, stop: make(chan struct{}), done: make(chan struct{})}
	probe.before = sumKiB(pids, "VmRSS")
	for _, pid := range pids {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil && probe.resetErr == nil {
			probe.resetErr = err
		}
	}
	probe.sampled = probe.before
	go func() {
		defer close(probe.done)
		ticker := time.NewTicker(50 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-probe.stop:
				return
			case <-ticker.C:
				if rss := sumKiB(pids, "VmRSS"); rss > probe.sampled {
					probe.sampled = rss
				}
			}
		}
	}()
	return probe
}

func (probe *peakProbe) finish() *PeakResult {
	close(probe.stop)
	<-probe.done
	after := sumKiB(probe.pids, "VmRSS")
	if after > probe.sampled {
		probe.sampled = after
	}
	result := &PeakResult{Processes: len(probe.pids), BeforeKiB: probe.before, AfterKiB: after, SampledKiB: probe.sampled}
	if probe.resetErr == nil {
		result.HWMKiB = sumKiB(probe.pids, "VmHWM")
	}
	if result.HWMKiB > 0 {
		result.PeakKiB, result.Method = result.HWMKiB, "VmHWM after clear_refs"
		if result.SampledKiB > result.PeakKiB { // cannot happen for one process; a sum may differ by a sample's timing
			result.PeakKiB = result.SampledKiB
		}
	} else {
		result.PeakKiB, result.Method = result.SampledKiB, "VmRSS sampled every 50 ms"
		if probe.resetErr != nil {
			result.Method += " (clear_refs: " + probe.resetErr.Error() + ")"
		}
	}
	return result
}
