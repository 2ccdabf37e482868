// Command hot-functions writes the linker's symbol-ordering file for pprof-rbac-proxy: the functions
// on the code pages a proxy used after it gave back its startup pages, as the smaps dumps of
// split-pages.c record them. Linked first, these functions share a few megabytes of pages, so serving
// faults in those instead of 64 KiB around each function spread over the whole binary.
//
//	hot-functions -binary PATH -out FILE DUMP.smaps...
package main

import (
	"bufio"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const pageSize = 4096

func main() {
	binary := flag.String("binary", "", "the proxy binary the dumps were taken from (with its symbol table)")
	out := flag.String("out", "", "where the ordering file goes")
	flag.Parse()
	if *binary == "" || *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: hot-functions -binary PATH -out FILE DUMP.smaps...")
		os.Exit(2)
	}
	if err := run(*binary, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "hot-functions:", err)
		os.Exit(1)
	}
}

func run(binaryPath, outPath string, dumps []string) error {
	binary, err := elf.Open(binaryPath)
	if err != nil {
		return err
	}
	defer binary.Close()
	code, err := codeSegment(binary)
	if err != nil {
		return err
	}
	name := filepath.Base(binaryPath)
	pages := map[uint64]bool{}
	for _, dump := range dumps {
		if err := addUsedPages(dump, name, code, pages); err != nil {
			return err
		}
	}
	if len(pages) == 0 {
		return fmt.Errorf("no used code pages of a binary named %s in the dumps", name)
	}
	functions, err := functionsOnPages(binary, pages)
	if err != nil {
		return err
	}
	content := strings.Join(functions, "\n") + "\n"
	if err := os.WriteFile(outPath, []byte(content), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "hot-functions: %d used code pages (%d KiB), %d functions on them, into %s\n",
		len(pages), len(pages)*pageSize/1024, len(functions), outPath)
	return nil
}

// codeSegment is the executable's loadable segment holding code.
func codeSegment(binary *elf.File) (*elf.Prog, error) {
	for _, prog := range binary.Progs {
		if prog.Type == elf.PT_LOAD && prog.Flags&elf.PF_X != 0 {
			return prog, nil
		}
	}
	return nil, fmt.Errorf("no executable segment")
}

// addUsedPages adds the virtual addresses (as linked) of the code pages of the binary called name
// that are resident in one smaps dump. split-pages.c gave each page its own mapping, so a mapping's
// Rss tells about exactly one page.
func addUsedPages(dump, name string, code *elf.Prog, pages map[uint64]bool) error {
	file, err := os.Open(dump)
	if err != nil {
		return err
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	var start, end, offset uint64
	inCode := false
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") {
			inCode = len(fields) >= 6 && fields[1] == "r-xp" && filepath.Base(fields[5]) == name
			if inCode {
				bounds := strings.SplitN(fields[0], "-", 2)
				start, _ = strconv.ParseUint(bounds[0], 16, 64)
				end, _ = strconv.ParseUint(bounds[1], 16, 64)
				offset, _ = strconv.ParseUint(fields[2], 16, 64)
			}
			continue
		}
		if inCode && fields[0] == "Rss:" && fields[1] != "0" {
			for page := uint64(0); page < end-start; page += pageSize {
				pages[offset+page-code.Off+code.Vaddr] = true
			}
		}
	}
	return scanner.Err()
}

// functionsOnPages names every function that has a byte on one of the pages, in address order.
func functionsOnPages(binary *elf.File, pages map[uint64]bool) ([]string, error) {
	symbols, err := binary.Symbols()
	if err != nil {
		return nil, fmt.Errorf("reading the symbol table (was the binary stripped?): %w", err)
	}
	sort.Slice(symbols, func(i, j int) bool { return symbols[i].Value < symbols[j].Value })
	var names []string
	seen := map[string]bool{}
	for _, symbol := range symbols {
		if elf.ST_TYPE(symbol.Info) != elf.STT_FUNC || symbol.Name == "" || seen[symbol.Name] {
			continue
		}
		size := symbol.Size
		if size == 0 {
			size = 1
		}
		for page := symbol.Value &^ (pageSize - 1); page < symbol.Value+size; page += pageSize {
			if pages[page] {
				seen[symbol.Name] = true
				names = append(names, symbol.Name)
				break
			}
		}
	}
	return names, nil
}
