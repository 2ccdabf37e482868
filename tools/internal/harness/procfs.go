package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Figures from /proc.

// StatusKiB reads a "Field:  N kB" line of /proc/PID/status.
func StatusKiB(pid int, field string) (int64, error) {
	return KiBField(fmt.Sprintf("/proc/%d/status", pid), field)
}

// KiBField reads a "Field:  N kB" line of a /proc file (status, meminfo, smaps_rollup).
func KiBField(path, field string) (int64, error) {
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

// OpenFDs is the number of open file descriptors of pid (the entries of /proc/PID/fd).
func OpenFDs(pid int) (int, error) {
	dir, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	return len(names), err
}

// ProcessTree is pid and its descendants (nginx: the master and its workers).
func ProcessTree(pid int) []int {
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

// SumKiB adds a /proc/PID/status field over pids (a process that is gone counts 0).
func SumKiB(pids []int, field string) int64 {
	var total int64
	for _, pid := range pids {
		if value, err := StatusKiB(pid, field); err == nil {
			total += value
		}
	}
	return total
}

// SumPssKiB adds the proportional set size over pids (shared pages divided among their users).
func SumPssKiB(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		if value, err := KiBField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss"); err == nil {
			total += value
		}
	}
	return total
}

// ClockTicksPerSecond is USER_HZ, the unit of /proc/PID/stat's CPU times (100 on Linux).
const ClockTicksPerSecond = 100

// CPUTicks is the CPU time (user + system, in clock ticks) the processes have used so far; a
// process that has exited counts nothing.
func CPUTicks(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name, in parentheses, may hold spaces: fields count from the last ')'.
		end := bytes.LastIndexByte(data, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(string(data[end+1:]))
		if len(fields) < 13 {
			continue
		}
		// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
		utime, errU := strconv.ParseInt(fields[11], 10, 64)
		stime, errS := strconv.ParseInt(fields[12], 10, 64)
		if errU == nil && errS == nil {
			total += utime + stime
		}
	}
	return total
}
