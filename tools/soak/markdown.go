package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// clock is m:ss.
func clock(seconds float64) string {
	s := int(seconds + 0.5)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// mib is KiB written as MiB.
func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// human is seconds written as a Go duration.
func human(seconds float64) string {
	return (time.Duration(seconds * float64(time.Second))).String()
}

// markdown is the report for people: the settings, the samples, the flatness per proxy, the
// profile types, the CPU time and slice figures per target, the failures and the verdict.
func (r *Report) markdown() string {
	var b strings.Builder
	r.writeHeader(&b)
	r.writeSamples(&b)
	r.writeFlatness(&b)
	r.writeProfiles(&b)
	r.writeUsage(&b)
	r.writeVerdict(&b)
	return b.String()
}

// writeHeader says what ran.
func (r *Report) writeHeader(b *strings.Builder) {
	s := r.Settings
	fmt.Fprintf(b, "## pprof-rbac-proxy soak, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	var profiles []string
	for _, p := range s["profiles"].([]profileType) {
		profiles = append(profiles, fmt.Sprintf("%s `%s`", p.Name, p.Path))
	}
	flags := "no extra proxy flags"
	if extra := s["proxyFlags"].([]string); len(extra) > 0 {
		flags = "extra proxy flags `" + strings.Join(extra, " ") + "`"
	}
	fmt.Fprintf(b, "%d targets, each a pprof-server with its own proxy (%s, %v; %s) in front of it, all in Kubernetes mode "+
		"against one fake API server, the auth caches at their defaults. Per target one keep-alive client over %v scrapes, "+
		"every %s (the targets staggered over it), each within a %s timeout (connection, head and whole body): %s. ",
		s["targets"], s["proxyBinary"], s["proxyVersion"], flags, s["protocol"], human(s["intervalSeconds"].(float64)),
		human(s["timeoutSeconds"].(float64)), strings.Join(profiles, ", "))
	if r.person {
		fmt.Fprintf(b, "A person (a user of their own) takes `%s` from every target every %s, over HTTP/1.1 on a new connection "+
			"each time as go tool pprof does, within %s. ", s["personProfile"].(profileType).Path,
			human(s["personEverySeconds"].(float64)), human(s["personTimeoutSeconds"].(float64)))
	}
	fmt.Fprintf(b, "%s of load, the first %s warm-up; a sample every %s. %d CPUs.\n\n",
		human(r.duration), human(r.warmup), human(s["sampleSeconds"].(float64)), s["cpus"])
}

// writeSamples is the table of samples.
func (r *Report) writeSamples(b *strings.Builder) {
	b.WriteString("| t | phase |")
	for _, name := range r.names {
		fmt.Fprintf(b, " %s RSS MiB | %s fds |", name, name)
	}
	b.WriteString(" requests | errors |")
	if r.person {
		b.WriteString(" person captures | failed |")
	}
	b.WriteString(" API calls (TokenReview + SAR) |\n|---:|---|")
	for range r.names {
		b.WriteString("---:|---:|")
	}
	if r.person {
		b.WriteString("---:|---:|")
	}
	b.WriteString("---:|---:|---:|\n")
	for _, sample := range r.Samples {
		phase := sample.Phase
		if phase == "middle" {
			phase = ""
		}
		fmt.Fprintf(b, "| %s | %s |", clock(sample.Seconds), phase)
		for _, p := range sample.Proxies {
			if p.Error != "" {
				b.WriteString(" gone | gone |")
				continue
			}
			fmt.Fprintf(b, " %.1f | %d |", float64(p.RSSKiB)/1024, p.FDs)
		}
		fmt.Fprintf(b, " %d | %d |", sample.Requests, sample.Errors)
		if r.person {
			fmt.Fprintf(b, " %d | %d |", sample.PersonCaptures, sample.PersonErrors)
		}
		api := "—"
		if sample.APICalls != nil {
			api = fmt.Sprintf("%d + %d", sample.APICalls["tokenreviews"], sample.APICalls["subjectaccessreviews"])
		}
		fmt.Fprintf(b, " %s |\n", api)
	}
}

// writeFlatness is the table of the flatness check per proxy.
func (r *Report) writeFlatness(b *strings.Builder) {
	b.WriteString("\n| proxy | RSS median, first → last third | growth (allowed) | fds max, first → last third | RSS min–max, fds min–max (whole run) | flat? |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|\n")
	for _, v := range r.Proxies {
		if v.Samples == 0 {
			fmt.Fprintf(b, "| %s | — | — | — | — | not compared |\n", v.Name)
			continue
		}
		verdict := "yes"
		switch {
		case !v.RSSFlat && !v.FDsFlat:
			verdict = "**no: RSS and fds grew**"
		case !v.RSSFlat:
			verdict = "**no: RSS grew**"
		case !v.FDsFlat:
			verdict = "**no: fds grew**"
		}
		growth := math.Round(float64(v.RSSGrowthKiB)/1024*10) / 10
		if growth == 0 {
			growth = 0 // not -0.0
		}
		fmt.Fprintf(b, "| %s | %s → %s | %+.1f MiB (≤ %.1f) | %d → %d (≤ %d) | %.1f–%.1f MiB, %d–%d | %s |\n",
			v.Name, mib(v.RSSFirstMedianKiB), mib(v.RSSLastMedianKiB), growth, float64(v.RSSAllowedKiB)/1024,
			v.FDsFirstMax, v.FDsLastMax, v.FDsFirstMax+fdSlack, float64(v.RSSMinKiB)/1024, float64(v.RSSMaxKiB)/1024, v.FDsMin, v.FDsMax, verdict)
	}
}

// writeProfiles is the table of profile types (the person's captures last), the connections and
// the API calls.
func (r *Report) writeProfiles(b *strings.Builder) {
	b.WriteString("\n| profile | path | requests | errors | median time | slowest | median size |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, p := range r.Profiles {
		fmt.Fprintf(b, "| %s | `%s` | %d | %d | %.3f s | %.3f s | %.1f KiB |\n",
			p.Name, p.Path, p.Requests, p.Errors, p.MedianSeconds, p.MaxSeconds, p.MedianBytes/1024)
	}
	if r.person {
		b.WriteString("\nperson_cpu is the person's captures, the other rows the scrapes.  \n")
	} else {
		b.WriteString("\n")
	}
	var connections []string
	for _, name := range r.names {
		connections = append(connections, fmt.Sprintf("%s %d", name, r.Connections[name]))
	}
	fmt.Fprintf(b, "Connections that carried scrapes: %s.  \n", strings.Join(connections, ", "))
	if r.APICalls != nil {
		fmt.Fprintf(b, "Kubernetes API calls in all: %d TokenReviews, %d SubjectAccessReviews (the proxies cache tokens for 2 min and allowed decisions for 5 min by default).  \n",
			r.APICalls["tokenreviews"], r.APICalls["subjectaccessreviews"])
	}
}

// writeUsage is the table of CPU time and slice figures per target.
func (r *Report) writeUsage(b *strings.Builder) {
	fmt.Fprintf(b, "\nCPU time over the %s from the first sample after the warm-up to the load's end (%s). "+
		"CPU profile slices over the whole run, from each proxy's /metrics (— : no gap measured; with --cpu-profile-slices=false every series stays at 0); "+
		"a gap is the upstream profiler's off time between two back-to-back slices (a pause while no request waited is none).\n\n",
		human(math.Round(r.CPUWindowSeconds*10)/10), r.CPUSource)
	b.WriteString("| target | upstream CPU s (per min) | proxy CPU s (per min) | slices ok | slices failed | gaps ≤ 1 s | their max | gaps > 1 s | mean gap (all) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var upstreams, proxies float64
	for _, u := range r.Usage {
		cpu := fmt.Sprintf("%.2f (%.3f) | %.2f (%.3f)", u.UpstreamCPUSeconds, u.UpstreamCPUPerMinute, u.ProxyCPUSeconds, u.ProxyCPUPerMinute)
		if u.CPUError != "" {
			cpu = u.CPUError + " | " + u.CPUError
		}
		upstreams += u.UpstreamCPUSeconds
		proxies += u.ProxyCPUSeconds
		fmt.Fprintf(b, "| %s | %s | %s |\n", u.Name, cpu, u.Slices.cells())
	}
	fmt.Fprintf(b, "| all | %.2f (%.3f) | %.2f (%.3f) | | | | | | |\n", upstreams, r.UpstreamsCPUPerMinute, proxies, r.ProxiesCPUPerMinute)
}

// cells is the slice columns of the usage table.
func (f SliceFigures) cells() string {
	switch {
	case f.Error != "":
		return fmt.Sprintf("unread: %s | | | | |", strings.ReplaceAll(f.Error, "|", "/"))
	case !f.Found:
		return "— | — | — | — | — | —"
	}
	mean, shortMax := "—", "—"
	if f.Gaps > 0 {
		mean = time.Duration(f.MeanGapSeconds * float64(time.Second)).Round(time.Microsecond).String()
	}
	if f.ShortGapsAtMost != "" {
		shortMax = "≤ " + secondsText(f.ShortGapsAtMost)
	}
	return fmt.Sprintf("%d | %d | %d | %s | %d | %s", f.OK, f.Failed, f.ShortGaps, shortMax, f.LongGaps, mean)
}

// writeVerdict lists the first failures, the verdict and the rule.
func (r *Report) writeVerdict(b *strings.Builder) {
	for _, kind := range []struct {
		title   string
		samples []ErrorSample
	}{{"Failed scrapes", r.ErrorSamples}, {"Failed person captures", r.PersonErrorSamples}} {
		if len(kind.samples) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s (the first ones):\n\n", kind.title)
		for _, e := range kind.samples {
			fmt.Fprintf(b, "- %s %s %s: %s\n", clock(e.AtSeconds), e.Target, e.Profile, e.Detail)
		}
	}

	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(b, "\n**Verdict: %s**: %d scrapes, %d errors", verdict, r.Requests, r.Errors)
	if r.person {
		fmt.Fprintf(b, "; %d person captures, %d failed", r.PersonCaptures, r.PersonErrors)
	}
	fmt.Fprintf(b, "; upstreams %.3f CPU s/min in all, proxies %.3f", r.UpstreamsCPUPerMinute, r.ProxiesCPUPerMinute)
	if r.Passed {
		b.WriteString("; RSS and open descriptors flat on every proxy.\n")
	} else {
		b.WriteString(".\n\n")
		for _, failure := range r.Failures {
			b.WriteString("- " + failure + "\n")
		}
	}
	fmt.Fprintf(b, "\nRule: %s\n", r.Rule)
}
