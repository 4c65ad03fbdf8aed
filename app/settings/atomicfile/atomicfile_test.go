package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestWriteReplacesAndSetsMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f.json")
	if err := Write(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "two" {
		t.Fatalf("content %q", got)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
		}
	}
	assertNoTemp(t, filepath.Dir(p))
}

// A failure at any step before the rename leaves the old file as it was
// and no temporary file behind.
func TestFailedWriteKeepsOldFile(t *testing.T) {
	for _, step := range []string{"write", "beforeRename"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f.json")
			if err := Write(p, []byte("old content"), 0o600); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("disk full")
			switch step {
			case "write":
				orig := writeContent
				writeContent = func(f *os.File, data []byte) error {
					f.Write(data[:len(data)/2]) // a torn write
					return boom
				}
				t.Cleanup(func() { writeContent = orig })
			case "beforeRename":
				orig := afterWrite
				afterWrite = func(string) error { return boom }
				t.Cleanup(func() { afterWrite = orig })
			}
			err := Write(p, bytes.Repeat([]byte("new"), 1000), 0o600)
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want %v", err, boom)
			}
			got, _ := os.ReadFile(p)
			if string(got) != "old content" {
				t.Fatalf("old file changed: %q", got)
			}
			assertNoTemp(t, dir)
		})
	}
}

// TestCrashMidWrite kills a real process half-way through writing (after
// the temp file has half the data) and checks the old file is whole.
func TestCrashMidWrite(t *testing.T) {
	if p := os.Getenv("ATOMICFILE_CRASH_PATH"); p != "" {
		writeContent = func(f *os.File, data []byte) error {
			f.Write(data[:len(data)/2])
			f.Sync()
			os.Exit(3) // the crash: no cleanup, no deferred calls
			return nil
		}
		Write(p, bytes.Repeat([]byte("x"), 1<<16), 0o600)
		t.Fatal("unreachable")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "settings.json")
	if err := Write(p, []byte(`{"old":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidWrite$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CRASH_PATH="+p)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("child did not crash as planned: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(p)
	if string(got) != `{"old":true}` {
		t.Fatalf("old file damaged by crash: %q", got)
	}
	// The crash leaves a temp file; the next Write still succeeds.
	if err := Write(p, []byte("next"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "f.json" && e.Name() != "sub" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// A temporary file left by a killed writer is removed by the next write
// once it is old; a recent one may belong to a writer still running.
func TestWriteRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	stale := filepath.Join(dir, ".settings.json.tmp-111")
	fresh := filepath.Join(dir, ".settings.json.tmp-222")
	other := filepath.Join(dir, ".history.json.tmp-333")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{stale, other} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{stale: false, fresh: true, other: true, path: true} {
		_, err := os.Stat(p)
		if exists := err == nil; exists != want {
			t.Errorf("%s exists = %v, want %v", filepath.Base(p), exists, want)
		}
	}
}
