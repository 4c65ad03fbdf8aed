// Package atomicfile writes files so that a crash or a full disk leaves
// either the old content or the new one, never a mix: settings and history
// are rewritten while the app runs, and a torn file would lose them.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// staleAge is how old a leftover temporary file must be before Write
// removes it: old enough that no other process (the settings window and the
// tray share the folder) can still be writing it.
const staleAge = 10 * time.Minute

// Test hooks: they let tests stop a write at each step, as a crash would.
var (
	afterWrite   = func(tmp string) error { return nil } // temp file written and synced, not yet renamed
	writeContent = func(f *os.File, data []byte) error { _, err := f.Write(data); return err }
)

// Write replaces path with data. It writes a temporary file in the same
// directory, syncs it, sets perm, and renames it over path, so readers see
// the old file or the new one. The directory is created (0700) if missing.
func Write(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("setting permissions of %s: %w", tmp, err)
	}
	if err := writeContent(f, data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := afterWrite(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	syncDir(dir)
	removeStale(path, time.Now())
	return nil
}

// removeStale deletes temporary files of path that a killed process left
// behind (a crash between create and rename), so they do not pile up.
func removeStale(path string, now time.Time) {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+".tmp-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// syncDir makes the rename durable where the OS allows it; failure only
// weakens durability after a power cut, so it is not reported.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
