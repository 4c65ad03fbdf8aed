package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// statusWaiter collects forwarded statuses.
type statusWaiter chan wsclient.Status

func (w statusWaiter) on(st wsclient.Status) {
	select {
	case w <- st:
	default: // a test that stops reading must not wedge the forwarder
	}
}

func (w statusWaiter) waitFor(t *testing.T, state wsclient.State) wsclient.Status {
	t.Helper()
	timeout := time.After(20 * time.Second) // hang guard only
	for {
		select {
		case st := <-w:
			if st.State == state {
				return st
			}
		case <-timeout:
			t.Fatalf("state %v never reached", state)
		}
	}
}

func demoSettings(srv *wstest.Server) settings.Settings {
	s := settings.Default()
	s.SiteURL, s.WSURL, s.Username = srv.URL, srv.WSURL, "demo"
	return s
}

// End to end on the backend emulator: sign in, connect, a pushed toast is
// recorded and pops up; Restart with a new minimum level reconnects and
// filters.
func TestEndToEndWithEmulator(t *testing.T) {
	srv := wstest.NewServer(wstest.Options{})
	defer srv.Close()
	h := history.Open(filepath.Join(t.TempDir(), "history.json"), history.Options{})
	defer h.Close()
	fn := &fakeNotifier{ch: make(chan notify.Notification, 10)}
	statuses := make(statusWaiter, 100)
	s := New(Options{Version: "test", Notifier: fn, History: h, OnStatus: statuses.on, Watchers: []wsclient.Watcher{}})
	defer s.Stop()

	set := demoSettings(srv)
	creds := wsclient.Credentials{Username: "demo", Password: "demo"}
	if err := s.Restart(s.RunFor(set, creds)); err != nil {
		t.Fatal(err)
	}
	statuses.waitFor(t, wsclient.StateConnected)
	if n := srv.Push("", wstest.DemoToast(3)); n != 1 {
		t.Fatalf("pushed to %d connections", n)
	}
	got := fn.next(t)
	if got.Title != "Sync failed" || !got.Urgent || got.Level != "error" {
		t.Fatalf("popup %+v", got)
	}

	// Reconnect now: a second connection.
	s.Reconnect()
	for srv.Counters().Connects < 2 {
		statuses.waitFor(t, wsclient.StateConnected)
	}

	set.MinLevel = "error"
	if err := s.Restart(s.RunFor(set, creds)); err != nil {
		t.Fatal(err)
	}
	for srv.Counters().Connects < 3 {
		statuses.waitFor(t, wsclient.StateConnected)
	}
	if c := srv.Counters(); c.Connects != 3 {
		t.Fatalf("connects %d, want 3", c.Connects)
	}
	srv.Push("", wstest.DemoToast(1)) // info: recorded, not shown
	srv.Push("", wstest.DemoToast(3)) // error: shown
	if got := fn.next(t); got.Level != "error" {
		t.Fatalf("popup %+v", got)
	}
	list, _ := h.List()
	if len(list) != 3 || list[1].Level != "info" || list[1].URL == "" {
		t.Fatalf("history %+v", list)
	}
}

// Wrong password: Run gives up, Done closes, the status and Err say
// signed out, and the password is in no log line.
func TestEndToEndSignedOut(t *testing.T) {
	srv := wstest.NewServer(wstest.Options{Users: map[string]string{"alice": "right-s3cret-XYZ"}})
	defer srv.Close()
	var logs syncBuffer
	statuses := make(statusWaiter, 100)
	s := New(Options{OnStatus: statuses.on, Watchers: []wsclient.Watcher{}, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	defer s.Stop()
	set := demoSettings(srv)
	set.Username = "alice"
	if err := s.Restart(s.RunFor(set, wsclient.Credentials{Username: "alice", Password: "wrong-s3cret-XYZ"})); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second): // hang guard
		t.Fatal("Run did not give up")
	}
	if !errors.Is(s.Err(), wsclient.ErrSignedOut) {
		t.Fatalf("Err() = %v", s.Err())
	}
	if st := statuses.waitFor(t, wsclient.StateSignedOut); st.Err == "" {
		t.Fatalf("%+v", st)
	}
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(s.Err().Error(), "s3cret") {
		t.Fatalf("password leaked:\n%s", logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Invalid settings: Restart fails and the status carries the reason.
func TestRestartInvalidSettings(t *testing.T) {
	statuses := make(statusWaiter, 10)
	s := New(Options{OnStatus: statuses.on})
	defer s.Stop()
	set := settings.Default()
	set.SiteURL, set.WSURL = "http://www.example.com", "wss://ws.example.com"
	if err := s.Restart(s.RunFor(set, wsclient.Credentials{})); err == nil {
		t.Fatal("invalid settings accepted")
	}
	if st := statuses.waitFor(t, wsclient.StateStopped); st.Err == "" {
		t.Fatalf("%+v", st)
	}
}

// SignOut (Forget credentials) drops a live connection at once: the
// status says signed out with the reason, Err wraps ErrSignedOut so that
// Reconnect restarts, and the site sees the connection close.
func TestSignOutStopsAtOnce(t *testing.T) {
	srv := wstest.NewServer(wstest.Options{})
	defer srv.Close()
	statuses := make(statusWaiter, 100)
	s := New(Options{OnStatus: statuses.on, Watchers: []wsclient.Watcher{}})
	defer s.Stop()
	if err := s.Restart(s.RunFor(demoSettings(srv), wsclient.Credentials{Username: "demo", Password: "demo"})); err != nil {
		t.Fatal(err)
	}
	statuses.waitFor(t, wsclient.StateConnected)
	s.SignOut("The saved credentials were deleted.")
	select {
	case <-s.Done():
	default:
		t.Fatal("the client still runs after SignOut returned")
	}
	if st := statuses.waitFor(t, wsclient.StateSignedOut); st.Err != "The saved credentials were deleted." {
		t.Fatalf("%+v", st)
	}
	if !errors.Is(s.Err(), wsclient.ErrSignedOut) {
		t.Fatalf("Err() = %v", s.Err())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // hang guard
	defer cancel()
	if err := srv.WaitConnections(ctx, 0); err != nil {
		t.Fatal(err)
	}
}
