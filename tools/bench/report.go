package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// go: Go's net/http + httputil.ReverseProxy over crypto/tls (tools/go-relay), kube-rbac-proxy's
// data path, in the long-running figures only.
var targetNames = []string{"direct", "proxy", "go", "nginx"}

// Row is one line of the table: a figure for each target, and the proxy's target.
type Row struct {
	ID      string              `json:"id"`
	Figure  string              `json:"figure"`
	Unit    string              `json:"unit"`
	Values  map[string]*float64 `json:"values"`  // by target; null: not measured
	Display map[string]string   `json:"display"` // the table's cells
	Target  string              `json:"target,omitempty"`
	Met     *bool               `json:"met,omitempty"`
	Verdict string              `json:"verdict,omitempty"`
}

// Report is everything one run produced; it is also the JSON file.
type Report struct {
	Machine  Machine                           `json:"machine"`
	Settings map[string]interface{}            `json:"settings"`
	Started  time.Time                         `json:"started"`
	Finished time.Time                         `json:"finished"`
	Rows     []*Row                            `json:"rows"`
	Details  map[string]map[string]interface{} `json:"details"` // figure → target → raw result
	Skipped  []string                          `json:"skipped"`
	Notes    []string                          `json:"notes"`
	Errors   map[string]map[string]string      `json:"errors,omitempty"` // figure → target → error
}

func newReport() *Report {
	return &Report{
		Settings: map[string]interface{}{},
		Details:  map[string]map[string]interface{}{},
		Errors:   map[string]map[string]string{},
		Skipped:  []string{},
		Notes:    []string{},
	}
}

func (r *Report) detail(figure, target string, value interface{}) {
	if r.Details[figure] == nil {
		r.Details[figure] = map[string]interface{}{}
	}
	r.Details[figure][target] = value
}

func (r *Report) fail(figure, target string, err error) {
	if r.Errors[figure] == nil {
		r.Errors[figure] = map[string]string{}
	}
	r.Errors[figure][target] = err.Error()
	logf("%s / %s failed: %v", figure, target, err)
}

func (r *Report) skip(format string, args ...interface{}) {
	message := fmt.Sprintf(format, args...)
	r.Skipped = append(r.Skipped, message)
	logf("skipping: %s", message)
}

func (r *Report) note(format string, args ...interface{}) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// row adds a row; cells are filled with set.
func (r *Report) row(id, figure, unit, target string) *Row {
	row := &Row{ID: id, Figure: figure, Unit: unit, Target: target, Values: map[string]*float64{}, Display: map[string]string{}}
	r.Rows = append(r.Rows, row)
	return row
}

func (row *Row) set(target string, value float64, display string) {
	v := value
	row.Values[target] = &v
	row.Display[target] = display
}

func (row *Row) text(target, display string) {
	row.Display[target] = display
}

func (row *Row) value(target string) (float64, bool) {
	if v := row.Values[target]; v != nil {
		return *v, true
	}
	return 0, false
}

func (row *Row) verdict(met bool, format string, args ...interface{}) {
	row.Met = &met
	word := "no"
	if met {
		word = "yes"
	}
	row.Verdict = word
	if format != "" {
		row.Verdict += " (" + fmt.Sprintf(format, args...) + ")"
	}
}

// againstNginx judges a "proxy vs nginx" ratio target: proxy ≥ factor × nginx when atLeast,
// otherwise proxy ≤ factor × nginx.
func (row *Row) againstNginx(atLeast bool, factor float64) {
	proxy, okProxy := row.value("proxy")
	nginx, okNginx := row.value("nginx")
	switch {
	case !okProxy:
		row.Verdict = "n/a (no proxy figure)"
	case !okNginx || nginx == 0:
		row.Verdict = "n/a (no nginx figure)"
	default:
		ratio := proxy / nginx
		if atLeast {
			row.verdict(ratio >= factor, "%.2f× nginx", ratio)
		} else {
			row.verdict(ratio <= factor, "%.2f× nginx", ratio)
		}
	}
}

// atMost judges "proxy value ≤ limit".
func (row *Row) atMost(limit float64) {
	proxy, ok := row.value("proxy")
	if !ok {
		row.Verdict = "n/a (no proxy figure)"
		return
	}
	row.verdict(proxy <= limit, "")
}

// Formatting.

func thousands(value float64) string {
	n := int64(math.Round(value))
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	digits := fmt.Sprintf("%d", n)
	var parts []string
	for len(digits) > 3 {
		parts = append([]string{digits[len(digits)-3:]}, parts...)
		digits = digits[:len(digits)-3]
	}
	parts = append([]string{digits}, parts...)
	return sign + strings.Join(parts, ",")
}

func formatMs(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.0f µs", ms*1000)
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.2f s", ms/1000)
	}
}

func formatMiB(kib int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

func (r *Report) markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "## pprof-rbac-proxy benchmark, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), %s memory, Linux %s.  \n", m.CPUs, m.CPUModel, m.Memory, m.Kernel)
	var versions []string
	for _, name := range []string{"proxy", "swift", "go", "nginx", "wrk", "h2load", "curl"} {
		if v, ok := m.Versions[name]; ok {
			versions = append(versions, fmt.Sprintf("%s: %s", name, v))
		}
	}
	fmt.Fprintf(&b, "Versions: %s.\n\n", strings.Join(versions, "; "))
	if settings, ok := r.Settings["summary"].(string); ok {
		fmt.Fprintf(&b, "%s\n\n", settings)
	}
	b.WriteString("| Figure | direct | proxy | Go relay | nginx | Target (proxy) | Met? |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|---|\n")
	for _, row := range r.Rows {
		cells := []string{row.Figure}
		for _, target := range targetNames {
			cell := row.Display[target]
			if cell == "" {
				cell = "—"
			}
			cells = append(cells, cell)
		}
		target := row.Target
		if target == "" {
			target = "—"
		}
		verdict := row.Verdict
		if verdict == "" {
			verdict = "—"
		}
		cells = append(cells, target, verdict)
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, note := range r.Notes {
			b.WriteString("- " + note + "\n")
		}
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\nSkipped:\n\n")
		for _, skipped := range r.Skipped {
			b.WriteString("- " + skipped + "\n")
		}
	}
	if len(r.Errors) > 0 {
		b.WriteString("\nFailures:\n\n")
		for _, figure := range sortedKeys(r.Errors) {
			for _, target := range targetNames {
				if message, ok := r.Errors[figure][target]; ok {
					first := strings.SplitN(message, "\n", 2)[0]
					fmt.Fprintf(&b, "- %s / %s: %s\n", figure, target, first)
				}
			}
		}
	}
	return b.String()
}

func sortedKeys(m map[string]map[string]string) []string {
	var keys []string
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
