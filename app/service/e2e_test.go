package service

import (
	"errors"
	"path/filepath"
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
	s := New(Options{Version: "test", Notifier: fn, History: h, OnStatus: statuses.on})
	defer s.Stop()

	set := demoSettings(srv)
	creds := wsclient.Credentials{Username: "demo", Password: "demo"}
	if err := s.Restart(set, creds); err != nil {
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

	set.MinLevel = "error"
	if err := s.Restart(set, creds); err != nil {
		t.Fatal(err)
	}
	statuses.waitFor(t, wsclient.StateConnected)
	if c := srv.Counters(); c.Connects != 2 {
		t.Fatalf("connects %d, want 2 (one per Restart)", c.Connects)
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
	if st := s.GateStats(); st.Filtered != 1 {
		t.Fatalf("%+v", st)
	}
}

// Wrong password: Run gives up, the status and Err say signed out.
func TestEndToEndSignedOut(t *testing.T) {
	srv := wstest.NewServer(wstest.Options{})
	defer srv.Close()
	statuses := make(statusWaiter, 100)
	s := New(Options{OnStatus: statuses.on})
	defer s.Stop()
	if err := s.Restart(demoSettings(srv), wsclient.Credentials{Username: "demo", Password: "wrong"}); err != nil {
		t.Fatal(err)
	}
	st := statuses.waitFor(t, wsclient.StateSignedOut)
	if st.Err == "" {
		t.Fatalf("%+v", st)
	}
	for s.Err() == nil { // set just before the final status is published
		<-statuses
	}
	if !errors.Is(s.Err(), wsclient.ErrSignedOut) {
		t.Fatalf("Err() = %v", s.Err())
	}
}

// Invalid settings: Restart fails and the status carries the reason.
func TestRestartInvalidSettings(t *testing.T) {
	statuses := make(statusWaiter, 10)
	s := New(Options{OnStatus: statuses.on})
	defer s.Stop()
	set := settings.Default()
	set.SiteURL, set.WSURL = "http://www.example.com", "wss://ws.example.com"
	if err := s.Restart(set, wsclient.Credentials{}); err == nil {
		t.Fatal("invalid settings accepted")
	}
	if st := statuses.waitFor(t, wsclient.StateStopped); st.Err == "" {
		t.Fatalf("%+v", st)
	}
}
