package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

func clock(seconds float64) string {
	s := int(seconds + 0.5)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func human(seconds float64) string {
	return (time.Duration(seconds * float64(time.Second))).String()
}

func (r *Report) markdown() string {
	var b strings.Builder
	s := r.Settings
	fmt.Fprintf(&b, "## pprof-rbac-proxy soak, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	var profiles []string
	for _, p := range s["profiles"].([]profileType) {
		profiles = append(profiles, fmt.Sprintf("%s `%s`", p.Name, p.Path))
	}
	fmt.Fprintf(&b, "%d targets, each a pprof-server with its own proxy (%s, %v) in front of it, all in Kubernetes mode "+
		"against one fake API server, the auth caches at their defaults. Per target one keep-alive client over %v scrapes, "+
		"every %s (the targets staggered over it): %s. %s of load, the first %s warm-up; a sample every %s. %d CPUs.\n\n",
		s["targets"], s["proxyBinary"], s["proxyVersion"], s["protocol"], human(s["intervalSeconds"].(float64)),
		strings.Join(profiles, ", "), human(r.duration), human(r.warmup), human(s["sampleSeconds"].(float64)), s["cpus"])

	b.WriteString("| t | phase |")
	for _, name := range r.names {
		fmt.Fprintf(&b, " %s RSS MiB | %s fds |", name, name)
	}
	b.WriteString(" requests | errors | API calls (TokenReview + SAR) |\n|---:|---|")
	for range r.names {
		b.WriteString("---:|---:|")
	}
	b.WriteString("---:|---:|---:|\n")
	for _, sample := range r.Samples {
		phase := sample.Phase
		if phase == "middle" {
			phase = ""
		}
		fmt.Fprintf(&b, "| %s | %s |", clock(sample.Seconds), phase)
		for _, p := range sample.Proxies {
			if p.Error != "" {
				b.WriteString(" gone | gone |")
				continue
			}
			fmt.Fprintf(&b, " %.1f | %d |", float64(p.RSSKiB)/1024, p.FDs)
		}
		api := "—"
		if sample.APICalls != nil {
			api = fmt.Sprintf("%d + %d", sample.APICalls["tokenreviews"], sample.APICalls["subjectaccessreviews"])
		}
		fmt.Fprintf(&b, " %d | %d | %s |\n", sample.Requests, sample.Errors, api)
	}

	b.WriteString("\n| proxy | RSS median, first → last third | growth (allowed) | fds max, first → last third | RSS min–max, fds min–max (whole run) | flat? |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|\n")
	for _, v := range r.Proxies {
		if v.Samples == 0 {
			fmt.Fprintf(&b, "| %s | — | — | — | — | not compared |\n", v.Name)
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
		fmt.Fprintf(&b, "| %s | %s → %s | %+.1f MiB (≤ %.1f) | %d → %d (≤ %d) | %.1f–%.1f MiB, %d–%d | %s |\n",
			v.Name, mib(v.RSSFirstMedianKiB), mib(v.RSSLastMedianKiB), growth, float64(v.RSSAllowedKiB)/1024,
			v.FDsFirstMax, v.FDsLastMax, v.FDsFirstMax+fdSlack, float64(v.RSSMinKiB)/1024, float64(v.RSSMaxKiB)/1024, v.FDsMin, v.FDsMax, verdict)
	}

	b.WriteString("\n| profile | path | scrapes | errors | median time | slowest | median size |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, p := range r.Profiles {
		fmt.Fprintf(&b, "| %s | `%s` | %d | %d | %.3f s | %.3f s | %.1f KiB |\n",
			p.Name, p.Path, p.Requests, p.Errors, p.MedianSeconds, p.MaxSeconds, p.MedianBytes/1024)
	}

	var connections []string
	for _, name := range r.names {
		connections = append(connections, fmt.Sprintf("%s %d", name, r.Connections[name]))
	}
	fmt.Fprintf(&b, "\nConnections that carried scrapes: %s.  \n", strings.Join(connections, ", "))
	if r.APICalls != nil {
		fmt.Fprintf(&b, "Kubernetes API calls in all: %d TokenReviews, %d SubjectAccessReviews (the proxies cache tokens for 2 min and allowed decisions for 5 min by default).  \n",
			r.APICalls["tokenreviews"], r.APICalls["subjectaccessreviews"])
	}
	if r.Errors > 0 {
		b.WriteString("\nFailed scrapes (the first ones):\n\n")
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(&b, "- %s %s %s: %s\n", clock(e.AtSeconds), e.Target, e.Profile, e.Detail)
		}
	}

	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\n**Verdict: %s**: %d scrapes, %d errors", verdict, r.Requests, r.Errors)
	if r.Passed {
		b.WriteString("; RSS and open descriptors flat on every proxy.\n")
	} else {
		b.WriteString(".\n\n")
		for _, failure := range r.Failures {
			b.WriteString("- " + failure + "\n")
		}
	}
	fmt.Fprintf(&b, "\nRule: %s\n", r.Rule)
	return b.String()
}
