package service

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// fakeNotifier records every popup on a channel.
type fakeNotifier struct{ ch chan notify.Notification }

func (f *fakeNotifier) Notify(n notify.Notification) error { f.ch <- n; return nil }

func (f *fakeNotifier) next(t *testing.T) notify.Notification {
	t.Helper()
	select {
	case n := <-f.ch:
		return n
	case <-time.After(10 * time.Second): // hang guard only
		t.Fatal("no notification")
		return notify.Notification{}
	}
}

// none checks that no popup is left: call it after Stop, when the gate
// has handled everything it was given.
func (f *fakeNotifier) none(t *testing.T) {
	t.Helper()
	select {
	case n := <-f.ch:
		t.Fatalf("unexpected popup %+v", n)
	default:
	}
}

func decode(t *testing.T, s string) wsclient.Message {
	t.Helper()
	m, err := wsclient.DecodeMessage([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Toasts go to history whatever the filter says; popups obey the minimum
// level; other messages reach OnMessage only.
func TestMessageRouting(t *testing.T) {
	clk := clock.NewFake(t0)
	h := history.Open(filepath.Join(t.TempDir(), "history.json"), history.Options{Clock: clk})
	defer h.Close()
	fn := &fakeNotifier{ch: make(chan notify.Notification, 10)}
	var seen []string
	s := New(Options{Notifier: fn, History: h, Clock: clk, OnMessage: func(m wsclient.Message) { seen = append(seen, m.Type) }})
	defer s.Stop()
	s.gate.SetMinLevel("warning")
	s.sound.Store(true)

	s.message(decode(t, `{"type":"toast","level":"info","title":"quiet","message":"m1"}`), "https://www.example.com")
	s.message(decode(t, `{"type":"chat_message","text":"hi"}`), "https://www.example.com")
	s.message(decode(t, `{"type":"toast","level":"error","message":"<b>x</b>"}`), "https://www.example.com")

	got := fn.next(t)
	want := notify.Notification{Title: "www.example.com · Error", Body: "<b>x</b>", Level: "error", Urgent: true, Sound: true}
	if got != want {
		t.Fatalf("popup %+v", got)
	}
	list, _ := h.List()
	if len(list) != 2 || list[0].Level != "error" || list[1].Title != "quiet" || !list[0].Time.Equal(t0) {
		t.Fatalf("history %+v", list)
	}
	if len(seen) != 3 || seen[1] != "chat_message" {
		t.Fatalf("OnMessage saw %v", seen)
	}
	s.Stop() // the gate has handled every submitted toast
	fn.none(t)
}

// Announcements go through the gate: past the level filter, not past a
// pause that holds their level back; history does not record them.
func TestAnnounce(t *testing.T) {
	clk := clock.NewFake(t0)
	h := history.Open(filepath.Join(t.TempDir(), "history.json"), history.Options{Clock: clk})
	defer h.Close()
	fn := &fakeNotifier{ch: make(chan notify.Notification, 10)}
	s := New(Options{Notifier: fn, History: h, Clock: clk, Gate: notify.GateOptions{MinLevel: "error"}})
	defer s.Stop()
	s.Announce(notify.Notification{Title: "Offline", Level: "warning"})
	if fn.next(t).Title != "Offline" {
		t.Fatal("announcement")
	}
	s.Pause(t0.Add(time.Hour), true)
	s.Announce(notify.Notification{Title: "Back online", Level: "success"})
	s.Announce(notify.Notification{Title: "Signed out", Level: "error"})
	if got := fn.next(t).Title; got != "Signed out" {
		t.Fatalf("got %q", got)
	}
	if list, _ := h.List(); len(list) != 0 {
		t.Fatalf("history %v", list)
	}
}

// Pausing stops popups, not history.
func TestPauseKeepsHistory(t *testing.T) {
	clk := clock.NewFake(t0)
	h := history.Open(filepath.Join(t.TempDir(), "history.json"), history.Options{Clock: clk})
	defer h.Close()
	fn := &fakeNotifier{ch: make(chan notify.Notification, 10)}
	pauses := make(chan time.Time, 10)
	s := New(Options{Notifier: fn, History: h, Clock: clk, Gate: notify.GateOptions{OnPause: func(u time.Time) { pauses <- u }}})
	defer s.Stop()
	s.Pause(t0.Add(time.Hour), false)
	if u := <-pauses; !u.Equal(t0.Add(time.Hour)) {
		t.Fatal(u)
	}
	s.message(decode(t, `{"type":"toast","level":"error","message":"x"}`), "")
	if list, _ := h.List(); len(list) != 1 {
		t.Fatalf("history %v", list)
	}
	s.Pause(time.Time{}, false) // the next popup is y: x was dropped
	s.message(decode(t, `{"type":"toast","level":"info","message":"y"}`), "")
	if fn.next(t).Body != "y" {
		t.Fatal("resume")
	}
}

// OnStatus gets every report of the current client, in order; a stale
// client generation's reports and reports after Stop are dropped.
func TestStatusReports(t *testing.T) {
	var got []wsclient.Status
	s := New(Options{OnStatus: func(st wsclient.Status) { got = append(got, st) }})
	gen := s.gen.Add(1)
	for i := range 3 {
		s.status(gen, wsclient.Status{State: wsclient.StateWaiting, Attempt: i})
	}
	s.status(gen-1, wsclient.Status{State: wsclient.StateConnected}) // stale
	s.Stop()
	s.status(gen, wsclient.Status{State: wsclient.StateConnected}) // after Stop: dropped
	if len(got) != 3 || got[0].Attempt != 0 || got[2].Attempt != 2 || got[2].State != wsclient.StateWaiting {
		t.Fatalf("OnStatus got %+v", got)
	}
	if s.Status().Attempt != 2 {
		t.Fatalf("Status() = %+v", s.Status())
	}
}

func TestStopIdempotentWithoutStart(t *testing.T) {
	s := New(Options{Notifier: &fakeNotifier{ch: make(chan notify.Notification, 1)}})
	s.Stop()
	s.Stop()
	s.Reconnect() // no client: nothing happens
	if err := s.Restart(s.RunFor(validSettings(), wsclient.Credentials{})); err == nil {
		t.Fatal("Restart after Stop succeeded")
	}
}
