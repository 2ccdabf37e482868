package main

import (
	"fmt"
	"os"
	"time"

	"pprof-rbac-proxy/tools/internal/harness"
)

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
	probe.before = harness.SumKiB(pids, "VmRSS")
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
				if rss := harness.SumKiB(pids, "VmRSS"); rss > probe.sampled {
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
	after := harness.SumKiB(probe.pids, "VmRSS")
	if after > probe.sampled {
		probe.sampled = after
	}
	result := &PeakResult{Processes: len(probe.pids), BeforeKiB: probe.before, AfterKiB: after, SampledKiB: probe.sampled}
	if probe.resetErr == nil {
		result.HWMKiB = harness.SumKiB(probe.pids, "VmHWM")
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
