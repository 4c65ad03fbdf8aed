//go:build !linux

package cli

import "runtime/debug"

// releaseMemory returns the heap's free pages to the OS. Dropping file
// mappings is Linux-only (it reads /proc/self/smaps).
func releaseMemory(freeHeap bool) error {
	if freeHeap {
		debug.FreeOSMemory()
	}
	return nil
}
