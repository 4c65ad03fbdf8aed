//go:build linux

package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Dropping file pages (see idle.go): MADV_DONTNEED on a clean, private
// file mapping only unmaps its pages. They stay in the page cache, and
// whatever is touched again is mapped back by a minor fault.

// span is a range of the address space, [start, end).
type span struct{ start, end uintptr }

// cleanFileMappings reads /proc/self/smaps and returns the mappings whose
// resident pages can be dropped without losing anything: backed by a
// regular file, private, not writable, with no anonymous (copied-on-write)
// pages — so not relocated by the dynamic loader and free of debugger
// breakpoints — not locked, not device memory, and with something
// resident.
//
// The ranges must still hold the same mappings when they are dropped.
// They do: the executable and the libraries loaded at start are never
// unmapped, and listen loads no library later but glibc's NSS modules
// (for the cgo DNS resolver), which glibc never unloads.
func cleanFileMappings(smaps io.Reader) ([]span, error) {
	var (
		out   []span
		cur   span
		ok    bool // cur is a candidate so far
		rss   bool // cur has resident pages
		have  bool // cur is set
		flush = func() {
			if have && ok && rss {
				out = append(out, cur)
			}
		}
	)
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's header line
			flush()
			s, candidate, err := parseMapsLine(f)
			if err != nil {
				return nil, fmt.Errorf("reading smaps line %q: %w", line, err)
			}
			cur, ok, rss, have = s, candidate, false, true
			continue
		}
		if !have || len(f) < 2 {
			continue
		}
		switch f[0] {
		case "Rss:":
			rss = f[1] != "0"
		case "Anonymous:", "Locked:":
			if f[1] != "0" {
				ok = false
			}
		case "VmFlags:":
			// Device memory (VM_IO, VM_PFNMAP) may have no way to
			// fault back in.
			if slices.Contains(f[1:], "io") || slices.Contains(f[1:], "pf") {
				ok = false
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading smaps: %w", err)
	}
	flush()
	return out, nil
}

// parseMapsLine parses "start-end perms offset dev inode [path]" and tells
// whether the mapping may be a clean file mapping.
func parseMapsLine(f []string) (span, bool, error) {
	if len(f) < 5 {
		return span{}, false, fmt.Errorf("%d fields, want at least 5", len(f))
	}
	lo, hi, found := strings.Cut(f[0], "-")
	if !found {
		return span{}, false, fmt.Errorf("bad range %q", f[0])
	}
	start, err := strconv.ParseUint(lo, 16, 64)
	if err != nil {
		return span{}, false, fmt.Errorf("bad range %q: %w", f[0], err)
	}
	end, err := strconv.ParseUint(hi, 16, 64)
	if err != nil {
		return span{}, false, fmt.Errorf("bad range %q: %w", f[0], err)
	}
	perms := f[1]
	candidate := len(perms) == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' &&
		f[4] != "0" && len(f) >= 6 && strings.HasPrefix(f[5], "/") && !strings.HasPrefix(f[5], "/dev/") && end > start
	return span{uintptr(start), uintptr(end)}, candidate, nil
}

// releaseMemory drops the resident pages of clean read-only file mappings
// and, with freeHeap, first returns the heap's free pages to the OS.
func releaseMemory(freeHeap bool) error {
	if freeHeap {
		debug.FreeOSMemory()
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return fmt.Errorf("releasing memory: %w", err)
	}
	spans, err := cleanFileMappings(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("releasing memory: %w", err)
	}
	for _, s := range spans {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, s.start, s.end-s.start, unix.MADV_DONTNEED); e != 0 {
			return fmt.Errorf("releasing memory: madvise %#x-%#x: %w", s.start, s.end, e)
		}
	}
	return nil
}
