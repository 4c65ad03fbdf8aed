package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

func connArgs(s *wstest.Server, extra ...string) []string {
	return append([]string{"--site", s.URL, "--ws", s.WSURL, "--user", "demo"}, extra...)
}

func waitSeen(t *testing.T, w *lineWriter, done chan error) {
	t.Helper()
	select {
	case <-w.seen:
	case err := <-done:
		t.Fatalf("ended early: %v\n%s", err, w.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("never saw %q in:\n%s", w.want, w.String())
	}
}

// fakeNotifier replaces the desktop Notifier for one test: it records
// what listen --notify shows, and counts how often one was made.
func fakeNotifier(t *testing.T) (shown chan notify.Notification, made *int) {
	t.Helper()
	shown, made = make(chan notify.Notification, 10), new(int)
	old := newNotifier
	newNotifier = func(*slog.Logger) notify.Notifier {
		*made++
		return notifierFunc(func(n notify.Notification) error { shown <- n; return nil })
	}
	t.Cleanup(func() { newNotifier = old })
	return shown, made
}

func TestListenPrintsMessagesAsJSONLines(t *testing.T) {
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	t.Setenv(envPassword, "demo")
	shown, made := fakeNotifier(t)
	out := newLineWriter(`"n":2`)
	errOut := newLineWriter(`"state":"connected"`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Listen(ctx, connArgs(s), testEnv(out, errOut)) }()
	waitSeen(t, errOut, done)
	s.Push("", map[string]any{"type": "toast", "level": "info", "message": "multi\nline", "n": 1})
	s.Push("", json.RawMessage("{\n  \"type\": \"x\",\n  \"n\": 2\n}"))
	waitSeen(t, out, done)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || lines[1] != `{"type":"x","n":2}` {
		t.Fatalf("stdout:\n%s", out.String())
	}
	if *made != 0 || len(shown) != 0 {
		t.Fatalf("without --notify: %d notifiers made, %d popups", *made, len(shown))
	}
	for _, l := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
		if !json.Valid([]byte(l)) {
			t.Fatalf("stderr line is not JSON: %s", l)
		}
		if strings.Contains(l, "ws_token=") && !strings.Contains(l, "REDACTED") {
			t.Fatalf("token in log: %s", l)
		}
	}
}

// listen --notify prints every message and pops up the toasts among them
// through the notification gate, never with a sound (beeep's sound is a
// BEL byte on stdout, where the JSON lines go).
func TestListenNotify(t *testing.T) {
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	t.Setenv(envPassword, "demo")
	shown, made := fakeNotifier(t)
	out := newLineWriter(`"title":"Disk full"`)
	errOut := newLineWriter(`"state":"connected"`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Listen(ctx, connArgs(s, "--notify"), testEnv(out, errOut)) }()
	waitSeen(t, errOut, done)
	// In order: were the first one a popup, it would be shown first.
	s.Push("", map[string]any{"type": "progress", "message": "not a toast"})
	s.Push("", map[string]any{"type": "toast", "level": "error", "title": "Disk full", "message": "Free <b>some</b> space"})
	var n notify.Notification
	select {
	case n = <-shown:
	case err := <-done:
		t.Fatalf("ended early: %v\n%s", err, errOut.String())
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("no popup")
	}
	want := notify.Notification{Title: "Disk full", Body: "Free <b>some</b> space", Level: "error", Urgent: true}
	if n != want {
		t.Fatalf("popup %+v, want %+v", n, want)
	}
	waitSeen(t, out, done)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen = %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || strings.ContainsRune(out.String(), '\a') {
		t.Fatalf("stdout:\n%q", out.String())
	}
	if *made != 1 || len(shown) != 0 {
		t.Fatalf("%d notifiers made, %d more popups", *made, len(shown))
	}
}

func TestListenPasswordFromStdin(t *testing.T) {
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	t.Setenv(envPassword, "wrong")
	old := stdin
	stdin = strings.NewReader("demo\n")
	defer func() { stdin = old }()
	errOut := newLineWriter(`"state":"connected"`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Listen(ctx, connArgs(s, "--password-stdin"), testEnv(&bytes.Buffer{}, errOut)) }()
	waitSeen(t, errOut, done)
	cancel()
	<-done
}

func TestListenSignedOutFails(t *testing.T) {
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	t.Setenv(envPassword, "wrong")
	var errOut bytes.Buffer
	err := Listen(context.Background(), connArgs(s), testEnv(&bytes.Buffer{}, &lockedWriter{w: &errOut}))
	if err == nil || !strings.Contains(errOut.String(), `"state":"signed-out"`) || strings.Contains(errOut.String(), "wrong") {
		t.Fatalf("err %v\n%s", err, errOut.String())
	}
}

func TestListenUsage(t *testing.T) {
	t.Setenv(envPassword, "")
	t.Setenv(envSessionID, "")
	for _, args := range [][]string{
		{},
		{"--site", "https://a.example", "--ws", "wss://b.example", "--user", "u"}, // no password
		{"--site", "https://a.example", "--ws", "wss://b.example", "--channel", "bad name"},
		{"--site", "http://a.example", "--ws", "wss://b.example"},
		{"--site", "https://a.example", "--ws", "wss://b.example", "extra"},
		{"--site", "https://a.example", "--ws", "wss://b.example", "--notify=maybe"},
	} {
		var errOut bytes.Buffer
		if err := Listen(context.Background(), args, testEnv(&bytes.Buffer{}, &errOut)); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: err %v", args, err)
		}
		if errOut.Len() == 0 {
			t.Errorf("%v: nothing printed", args)
		}
	}
}

// A restarted listen asks for what it missed since the last toast it
// printed (kept in the config folder) and prints each toast once: not the
// ones printed before the restart, and the missed one once.
func TestListenRestartCatchesUpOnce(t *testing.T) {
	t.Setenv("TOASTTRAY_CONFIG_DIR", t.TempDir())
	t.Setenv(envPassword, "demo")
	s := wstest.NewServer(wstest.Options{CatchupHandler: "catchup"})
	defer s.Close()
	run := func(want string, during func()) string {
		t.Helper()
		out := newLineWriter(want)
		errOut := newLineWriter(`"state":"connected"`)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- Listen(ctx, connArgs(s, "--catchup-handler", "catchup"), testEnv(out, errOut)) }()
		waitSeen(t, errOut, done)
		during()
		waitSeen(t, out, done)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Listen = %v", err)
		}
		return out.String()
	}
	first := run(`"message":"two"`, func() {
		s.SendToast("demo", "", map[string]any{"type": "toast", "level": "info", "message": "one"})
		s.SendToast("demo", "", map[string]any{"type": "toast", "level": "info", "message": "two"})
	})
	if strings.Count(first, `"type":"toast"`) != 2 {
		t.Fatalf("first run printed:\n%s", first)
	}
	s.SendToast("demo", "", map[string]any{"type": "toast", "level": "info", "message": "three"}) // nobody listens
	// The terminator of the catch-up comes after the backlog.
	second := run(`"type":"catchup"`, func() {})
	if strings.Count(second, `"type":"toast"`) != 1 || !strings.Contains(second, `"message":"three"`) {
		t.Fatalf("second run printed:\n%s", second)
	}
}

// A toast delivered twice (the same id) is printed once.
func TestListenPrintsAToastOnce(t *testing.T) {
	t.Setenv("TOASTTRAY_CONFIG_DIR", t.TempDir())
	t.Setenv(envPassword, "demo")
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	out := newLineWriter(`"type":"end"`)
	errOut := newLineWriter(`"state":"connected"`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Listen(ctx, connArgs(s), testEnv(out, errOut)) }()
	waitSeen(t, errOut, done)
	for range 2 {
		s.Push("", map[string]any{"type": "toast", "id": 7, "level": "info", "message": "once"})
	}
	s.Push("", map[string]any{"type": "end"})
	waitSeen(t, out, done)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen = %v", err)
	}
	if got := strings.Count(out.String(), `"message":"once"`); got != 1 {
		t.Fatalf("printed %d times:\n%s", got, out.String())
	}
}

// notifierFunc adapts a function to notify.Notifier.
type notifierFunc func(notify.Notification) error

func (f notifierFunc) Notify(n notify.Notification) error { return f(n) }
