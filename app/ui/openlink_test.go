//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeXDGOpen puts an xdg-open running script first on PATH.
func fakeXDGOpen(t *testing.T, script string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// A desktop where nothing opens links: xdg-open gives up at once, and the
// History window gets its reason (Fyne's OpenURL would report success).
func TestXDGOpenReportsNoBrowser(t *testing.T) {
	fakeXDGOpen(t, `echo "/usr/bin/xdg-open: 882: firefox: not found" >&2
echo "xdg-open: no method available for opening '$1'" >&2
exit 3`)
	err := xdgOpen("https://example.com/x", time.Minute) // the grace is not reached: it exits first
	if err == nil || err.Error() != "nothing on this desktop opens web links: xdg-open: no method available for opening 'https://example.com/x' (exit status 3)" {
		t.Fatalf("err = %v", err)
	}
}

func TestXDGOpenSuccess(t *testing.T) {
	fakeXDGOpen(t, `test "$1" = "https://example.com/x"`)
	if err := xdgOpen("https://example.com/x", time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestHeadWriterKeepsTheStart(t *testing.T) {
	w := &headWriter{max: 5}
	for _, s := range []string{"abc", "defg", "hij"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if w.String() != "abcde" || lastLine("a\nb \n\n") != "b" || !strings.Contains(lastLine("x"), "x") {
		t.Fatalf("kept %q", w.String())
	}
}
