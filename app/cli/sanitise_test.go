package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

// hostile is what a hostile or broken server puts in its answers: an OSC
// that retitles the terminal, a clear-screen CSI, the one-byte C1 CSI
// (U+009B), a bidi override and isolate, a backspace and invalid UTF-8.
const hostile = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil\u2066\b\xff"

// terminalUnsafe reports the first byte sequence of s that a terminal
// could act on or that hides text: C0 controls but newline, C1 controls,
// bidi controls, invalid UTF-8.
func terminalUnsafe(s string) (string, bool) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return fmt.Sprintf("invalid UTF-8 at %d", i), true
		case r < 0x20 && r != '\n', r >= 0x7f && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return fmt.Sprintf("%U at %d", r, i), true
		}
	}
	return "", false
}

// rawSite answers every HTTP request with status line "500 <reason>" and
// body, the way a broken proxy in front of the site could. It ends with
// the test.
func rawSite(t *testing.T, reason, body string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					req.Body.Close()
					fmt.Fprintf(c, "HTTP/1.1 500 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", reason, len(body), body)
				}
			})
		}
	})
	return "http://" + l.Addr().String()
}

func TestCheckSanitisesServerText(t *testing.T) {
	site := rawSite(t, "Oops"+hostile, "refused"+hostile)
	t.Setenv(envPassword, "demo")
	var out bytes.Buffer
	args := []string{"--site", site, "--ws", strings.Replace(site, "http", "ws", 1) + "/prod", "--user", "demo"}
	err := Check(context.Background(), args, testEnv(&out, &bytes.Buffer{}))
	if !errors.Is(err, errCheckFailed) {
		t.Fatalf("Check = %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "Oops") {
		t.Fatalf("the failure does not quote the server:\n%q", out.String())
	}
	if what, bad := terminalUnsafe(out.String()); bad {
		t.Fatalf("check printed %s:\n%q", what, out.String())
	}
}

// listen's stderr log lines carry the status errors that quote the site;
// they stay JSON and free of what a terminal acts on.
func TestListenLogSanitisesServerText(t *testing.T) {
	site := rawSite(t, "Oops"+hostile, "refused"+hostile)
	t.Setenv(envPassword, "demo")
	errOut := newLineWriter(`Oops`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	args := []string{"--site", site, "--ws", strings.Replace(site, "http", "ws", 1) + "/prod", "--user", "demo"}
	go func() { done <- Listen(ctx, args, testEnv(&bytes.Buffer{}, errOut)) }()
	waitSeen(t, errOut, done)
	cancel()
	<-done
	for _, l := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
		if !json.Valid([]byte(l)) {
			t.Fatalf("stderr line is not JSON: %q", l)
		}
		if what, bad := terminalUnsafe(l); bad {
			t.Fatalf("stderr has %s: %q", what, l)
		}
	}
}

// listen's stdout stays the server's JSON, value for value, with C1, bidi
// and invalid UTF-8 escaped so that printing it is harmless.
func TestListenEscapesUnsafeRunes(t *testing.T) {
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	t.Setenv(envPassword, "demo")
	out := newLineWriter(`"type":"toast"`)
	errOut := newLineWriter(`"state":"connected"`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Listen(ctx, connArgs(s), testEnv(out, errOut)) }()
	waitSeen(t, errOut, done)
	// Raw, so the emulator sends the bytes as they are. JSON cannot hold a
	// raw ESC, so an escaped one (\u001b) must stay escaped.
	frame := "{\"type\":\"toast\",\"title\":\"\u009b2J\u202eevil\u2069\",\"x\":\"a\xffb\",\"esc\":\"\\u001b]0;t\\u0007\",\"ok\":\"héllo ✓\"}"
	resp, err := http.Post(s.URL+"/_push?channel=default", "application/json", strings.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitSeen(t, out, done)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen = %v", err)
	}
	line := strings.TrimSuffix(out.String(), "\n")
	if what, bad := terminalUnsafe(line); bad {
		t.Fatalf("stdout has %s: %q", what, line)
	}
	want := `{"type":"toast","title":"\u009b2J\u202eevil\u2069","x":"a\ufffdb","esc":"\u001b]0;t\u0007","ok":"héllo ✓"}`
	if line != want {
		t.Fatalf("stdout\n got %s\nwant %s", line, want)
	}
	var got, orig map[string]string
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(frame), &orig); err != nil {
		t.Fatal(err)
	}
	for k, v := range orig {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}
