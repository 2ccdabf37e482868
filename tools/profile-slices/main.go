// Command profile-slices writes real CPU profiles for the merge tests of PprofProfile: -n
// profiles of -slice each (slice-01.pb.gz, …), taken back to back the way the proxy slices a
// capture, while goroutines under pprof labels burn CPU in a few functions, and a heap profile
// (heap.pb.gz) of the same program, which must not merge with them.
//
//	go run ./profile-slices -n 10 -dir ../Tests/PprofProfileTests/Fixtures/cpu-slices
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"
)

var sink int

//go:noinline
func parse(rounds int) {
	for i := 0; i < rounds; i++ {
		sink += i % 7
	}
}

//go:noinline
func render(rounds int) {
	for i := 0; i < rounds; i++ {
		sink ^= i * 31
	}
	parse(rounds / 4)
}

// work burns about half of one core in step, under the label worker=name.
func work(name string, step func(int)) {
	pprof.Do(context.Background(), pprof.Labels("worker", name), func(context.Context) {
		for {
			deadline := time.Now().Add(10 * time.Millisecond)
			for time.Now().Before(deadline) {
				step(20000)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func writeProfile(path string, write func(io.Writer) error) {
	file, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := write(file); err != nil {
		log.Fatal(err)
	}
	if err := file.Close(); err != nil {
		log.Fatal(err)
	}
}

func main() {
	count := flag.Int("n", 10, "how many slices")
	slice := flag.Duration("slice", time.Second, "the length of each slice")
	dir := flag.String("dir", ".", "where to write them")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	go work("parse", parse)
	go work("render", render)
	for i := 1; i <= *count; i++ {
		writeProfile(filepath.Join(*dir, fmt.Sprintf("slice-%02d.pb.gz", i)), func(file io.Writer) error {
			if err := pprof.StartCPUProfile(file); err != nil {
				return err
			}
			time.Sleep(*slice)
			pprof.StopCPUProfile()
			return nil
		})
	}
	writeProfile(filepath.Join(*dir, "heap.pb.gz"), pprof.WriteHeapProfile)
}
