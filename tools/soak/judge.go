package main

import (
	"fmt"
	"sort"
	"strings"
)

// The flatness rule, applied to each proxy over the samples taken after the warm-up and before
// the load ends, split into thirds (the middle third is not compared):
//
//	RSS: median of the last third − median of the first third ≤ max(10 % of the first, 2 MiB);
//	fds: the largest count in the last third ≤ the largest count in the first third + 2.
//
// Medians ignore a sample caught in the middle of a burst of scrapes; the thirds compare the
// steady state near the start with the steady state near the end, so a leak of a connection or a
// buffer per scrape round shows up however late it starts.
const (
	rssGrowthFraction = 0.10
	rssGrowthFloorKiB = 2 * 1024
	fdSlack           = 2
)

// ruleText is the verdict's rule, printed with it.
const ruleText = "after the warm-up, the samples taken while the load ran are split into thirds; for every proxy, " +
	"the median RSS of the last third may exceed the median of the first third by at most 10 % or 2 MiB, whichever is larger, " +
	"and the most descriptors open in the last third may exceed the most in the first third by at most 2; " +
	"and no scrape and no person capture may fail (status other than 200, empty body, not a complete gzip stream, other protocol than asked for, " +
	"transport error, the whole response not within its timeout) and no process may exit. CPU time and slice figures are reported, not judged."

// judge marks the samples' phases, checks every proxy's flatness and decides.
func (r *Report) judge() {
	var after []int // indexes of the samples after the warm-up, while the load ran
	for i := range r.Samples {
		sample := &r.Samples[i]
		switch {
		case sample.Phase == "drained":
		case sample.Seconds < r.warmup:
			sample.Phase = "warm-up"
		default:
			sample.Phase = "middle"
			after = append(after, i)
		}
	}
	third := len(after) / 3
	if third == 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("only %d samples after the warm-up: nothing to compare", len(after)))
	} else {
		first, last := after[:third], after[len(after)-third:]
		for _, i := range first {
			r.Samples[i].Phase = "first third"
		}
		for _, i := range last {
			r.Samples[i].Phase = "last third"
		}
		for p := range r.Proxies {
			v := &r.Proxies[p]
			series := func(indexes []int) ([]int64, []int) {
				var rss []int64
				var fds []int
				for _, i := range indexes {
					figure := r.Samples[i].Proxies[p]
					if figure.Error != "" {
						continue
					}
					rss = append(rss, figure.RSSKiB)
					fds = append(fds, figure.FDs)
				}
				return rss, fds
			}
			firstRSS, firstFDs := series(first)
			lastRSS, lastFDs := series(last)
			if len(firstRSS) < third || len(lastRSS) < third {
				r.Failures = append(r.Failures, fmt.Sprintf("%s: /proc could not be read in some samples (did it exit?)", v.Name))
				continue
			}
			v.Samples = third
			v.FirstThird = [2]float64{r.Samples[first[0]].Seconds, r.Samples[first[len(first)-1]].Seconds}
			v.LastThird = [2]float64{r.Samples[last[0]].Seconds, r.Samples[last[len(last)-1]].Seconds}
			checkFlat(v, firstRSS, lastRSS, firstFDs, lastFDs)
			v.RSSMinKiB, v.RSSMaxKiB, v.FDsMin, v.FDsMax = -1, 0, -1, 0
			for _, sample := range r.Samples {
				figure := sample.Proxies[p]
				if figure.Error != "" {
					continue
				}
				if v.RSSMinKiB < 0 || figure.RSSKiB < v.RSSMinKiB {
					v.RSSMinKiB = figure.RSSKiB
				}
				if figure.RSSKiB > v.RSSMaxKiB {
					v.RSSMaxKiB = figure.RSSKiB
				}
				if v.FDsMin < 0 || figure.FDs < v.FDsMin {
					v.FDsMin = figure.FDs
				}
				if figure.FDs > v.FDsMax {
					v.FDsMax = figure.FDs
				}
			}
			if !v.RSSFlat {
				r.Failures = append(r.Failures, fmt.Sprintf("%s: RSS grew by %s (median %s → %s), more than the %s allowed",
					v.Name, mib(v.RSSGrowthKiB), mib(v.RSSFirstMedianKiB), mib(v.RSSLastMedianKiB), mib(v.RSSAllowedKiB)))
			}
			if !v.FDsFlat {
				r.Failures = append(r.Failures, fmt.Sprintf("%s: up to %d descriptors open in the last third, against at most %d in the first (+%d allowed)",
					v.Name, v.FDsLastMax, v.FDsFirstMax, fdSlack))
			}
		}
	}
	if r.Errors > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d of %d scrapes failed: %s", r.Errors, r.Requests, countsText(r.ErrorReasons)))
	}
	if r.Requests == 0 {
		r.Failures = append(r.Failures, "no scrape finished")
	}
	if r.PersonErrors > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d of %d person captures failed: %s", r.PersonErrors, r.PersonCaptures, countsText(r.PersonErrorReasons)))
	}
	if r.person && r.PersonCaptures == 0 {
		r.Failures = append(r.Failures, "no person capture finished")
	}
	for _, exit := range r.Exited {
		r.Failures = append(r.Failures, strings.SplitN(exit, "\n", 2)[0])
	}
	r.Passed = len(r.Failures) == 0
}

// checkFlat applies the flatness rule to one proxy's figures in the first and last thirds.
func checkFlat(v *ProxyVerdict, firstRSS, lastRSS []int64, firstFDs, lastFDs []int) {
	v.RSSFirstMedianKiB, v.RSSLastMedianKiB = medianInt(firstRSS), medianInt(lastRSS)
	v.RSSGrowthKiB = v.RSSLastMedianKiB - v.RSSFirstMedianKiB
	v.RSSAllowedKiB = int64(float64(v.RSSFirstMedianKiB) * rssGrowthFraction)
	if v.RSSAllowedKiB < rssGrowthFloorKiB {
		v.RSSAllowedKiB = rssGrowthFloorKiB
	}
	v.RSSFlat = v.RSSGrowthKiB <= v.RSSAllowedKiB
	v.FDsFirstMax, v.FDsLastMax = maxInt(firstFDs), maxInt(lastFDs)
	v.FDsFlat = v.FDsLastMax <= v.FDsFirstMax+fdSlack
}

// median is the middle value (the mean of the two middle ones; 0 for none).
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	n := len(sorted)
	if n%2 == 0 {
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return sorted[n/2]
}

// medianInt is median for integers.
func medianInt(values []int64) int64 {
	floats := make([]float64, len(values))
	for i, v := range values {
		floats[i] = float64(v)
	}
	return int64(median(floats))
}

// maxOf is the largest value (0 for none).
func maxOf(values []float64) float64 {
	var m float64
	for _, v := range values {
		if v > m {
			m = v
		}
	}
	return m
}

// maxInt is the largest value (0 for none).
func maxInt(values []int) int {
	m := 0
	for _, v := range values {
		if v > m {
			m = v
		}
	}
	return m
}

// countsText is "3 × timeout, 1 × status 429", the most frequent first.
func countsText(counts map[string]int) string {
	var parts []string
	for _, key := range sortedByCount(counts) {
		parts = append(parts, fmt.Sprintf("%d × %s", counts[key], key))
	}
	return strings.Join(parts, ", ")
}

// sortedByCount is the keys, the largest count first (ties by name).
func sortedByCount(counts map[string]int) []string {
	var keys []string
	for key := range counts {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
