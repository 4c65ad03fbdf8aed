package ui

import (
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"fyne.io/fyne/v2"
)

// openLinkGrace is how long openLink waits for xdg-open to fail. It fails
// at once when nothing can open links; one still running after this is
// the browser it started in its generic mode, which lasts as long.
const openLinkGrace = 3 * time.Second

// openLink opens u in the browser. Where xdg-open is the way (Linux, the
// BSDs), it runs xdg-open itself: Fyne's OpenURL only starts it, so a
// desktop without a browser ("no method available") would show nothing.
// Elsewhere, or without xdg-open, it is Fyne's OpenURL.
func openLink(a fyne.App, u *url.URL) error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		if _, err := exec.LookPath("xdg-open"); err == nil {
			return xdgOpen(u.String(), openLinkGrace)
		}
	}
	return a.OpenURL(u)
}

// xdgOpen runs xdg-open u and returns its failure if it ends with one
// within grace, with what it said. A goroutine reaps it when it exits.
func xdgOpen(u string, grace time.Duration) error {
	cmd := exec.Command("xdg-open", u)
	said := &headWriter{max: 1024}
	cmd.Stderr = said
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting xdg-open: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-exited:
		if err == nil {
			return nil
		}
		// Wait has returned: the copy into said is over.
		msg := lastLine(said.String())
		if msg == "" {
			msg = "xdg-open failed"
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 { // "a required tool could not be found"
			msg = "nothing on this desktop opens web links: " + msg
		}
		return fmt.Errorf("%s (%w)", msg, err)
	case <-t.C:
		return nil
	}
}

// headWriter keeps the first max bytes written to it: a browser that
// xdg-open runs may write to stderr for as long as it runs.
type headWriter struct {
	max int
	b   strings.Builder
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (w *headWriter) String() string { return w.b.String() }

// lastLine is xdg-open's verdict: it prints what it tried, then why it
// gave up ("xdg-open: no method available for opening …").
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
