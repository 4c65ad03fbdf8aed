package service

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// catchupRig is the emulator with the site's catch-up app, and a service
// on the same fake clock.
type catchupRig struct {
	t    *testing.T
	clk  *clock.Fake
	srv  *wstest.Server
	dir  string
	hist *history.Store
	fn   *fakeNotifier
	msgs chan wsclient.Message
	st   statusWaiter
	s    *Service
}

func newCatchupRig(t *testing.T, catchupMax int) *catchupRig {
	r := &catchupRig{t: t, clk: clock.NewFake(t0), dir: t.TempDir()}
	// The gateway's idle timeout is out of the way: rotation is tested.
	r.srv = wstest.NewServer(wstest.Options{Clock: r.clk, CatchupHandler: "catchup", CatchupMax: catchupMax, IdleTimeout: 3 * time.Hour})
	t.Cleanup(r.srv.Close)
	r.hist = history.Open(filepath.Join(r.dir, history.FileName), history.Options{})
	t.Cleanup(func() { r.hist.Close() })
	r.start()
	return r
}

// start runs a new service (an app start) with the same files.
func (r *catchupRig) start() {
	r.fn = &fakeNotifier{ch: make(chan notify.Notification, 100)}
	r.msgs = make(chan wsclient.Message, 100)
	r.st = make(statusWaiter, 100)
	r.s = New(Options{OnStatus: r.st.on, Notifier: r.fn, History: r.hist, Clock: r.clk, Rand: func() float64 { return 0.5 },
		Watchers: []wsclient.Watcher{}, SeenPath: filepath.Join(r.dir, SeenFileName),
		OnMessage: func(m wsclient.Message) { r.msgs <- m }})
	r.t.Cleanup(r.s.Stop)
	set := demoSettings(r.srv)
	set.CatchupHandler = "catchup"
	if err := r.s.Restart(r.s.RunFor(set, wsclient.Credentials{Username: "demo", Password: "demo"})); err != nil {
		r.t.Fatal(err)
	}
}

func (r *catchupRig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // hang guard
	defer cancel()
	if err := r.srv.WaitFor(ctx, cond); err != nil {
		r.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// terminator waits for the next catch-up terminator and returns it.
func (r *catchupRig) terminator() wsclient.Terminator {
	r.t.Helper()
	timeout := time.After(20 * time.Second) // hang guard
	for {
		select {
		case m := <-r.msgs:
			if term, ok := m.Terminator(); ok {
				return term
			}
		case <-timeout:
			r.t.Fatal("no catch-up terminator")
		}
	}
}

func (r *catchupRig) popup(title string) {
	r.t.Helper()
	if got := r.fn.next(r.t); got.Title != title {
		r.t.Fatalf("popup %q, want %q", got.Title, title)
	}
}

func (r *catchupRig) lastConn() string {
	c := r.srv.Connections()
	return c[len(c)-1].ID
}

func titled(s string) map[string]any {
	return map[string]any{"type": "toast", "level": "info", "title": s, "message": "m"}
}

// Every toast with an id pops up and is recorded once, whatever the path:
// live, a catch-up backlog (more than 3 become one summary), a site that
// sends a seen toast again, both connections of a rotation, and after an
// app restart (the state file).
func TestCatchupExactlyOnce(t *testing.T) {
	r := newCatchupRig(t, 0)
	r.terminator()
	r.srv.SendToast("demo", "", titled("one"))
	r.srv.SendToast("demo", "", titled("two"))
	r.popup("one")
	r.popup("two")

	// A site that answers catch-up with a toast already shown live.
	dup := titled("two")
	dup["id"], dup["catchup"] = "2", true
	if err := r.srv.PushTo(r.lastConn(), dup); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.PushTo(r.lastConn(), map[string]any{"type": "catchup", "since": "1", "last": "2", "count": 1}); err != nil {
		t.Fatal(err)
	}
	r.terminator()

	// Five missed while the connection was deaf: one summary.
	if err := r.srv.Deafen(r.lastConn()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"3", "4", "5", "6", "7"} {
		r.srv.SendToast("demo", "", titled(s))
	}
	r.s.Reconnect()
	if term := r.terminator(); term.Since != "2" || term.Count != 5 {
		t.Fatalf("terminator %+v", term)
	}
	r.popup("5 notifications while you were away — highest: Info")

	// Rotation: both connections get toast 8 during the overlap. The jump
	// also fires the catch-up check; its answer deadline counts from the
	// jump's end (clock.Fake), as the rotation's own request does.
	r.clk.Advance(wsclient.DefaultRotateAfter)
	r.waitFor("the rotation's connection", func() bool { return r.srv.NumConnections() == 2 })
	if _, n := r.srv.SendToast("demo", "", titled("eight")); n != 2 {
		t.Fatalf("toast 8 reached %d connections", n)
	}
	r.popup("eight")
	r.terminator() // the new connection's answer: nothing missed

	list, _ := r.hist.List()
	missed := 0
	for _, e := range list {
		if e.Missed {
			missed++
		}
	}
	if len(list) != 8 || missed != 5 {
		t.Fatalf("history: %d entries, %d missed; want 8, 5", len(list), missed)
	}

	// An app restart: the state file carries the last id.
	r.s.Stop()
	data, err := os.ReadFile(filepath.Join(r.dir, SeenFileName))
	if err != nil {
		t.Fatal(err)
	}
	var f seenFile
	if err := json.Unmarshal(data, &f); err != nil || f.Last[seenKey(r.srv.URL, "demo", "")] != "8" {
		t.Fatalf("state file %s (%v)", data, err)
	}
	r.start()
	if term := r.terminator(); term.Since != "8" || term.Count != 0 {
		t.Fatalf("terminator after restart %+v", term)
	}
	old := titled("five again")
	old["id"] = "5"
	if err := r.srv.PushTo(r.lastConn(), old); err != nil {
		t.Fatal(err)
	}
	r.srv.SendToast("demo", "", titled("nine"))
	r.popup("nine")
	if list, _ := r.hist.List(); len(list) != 9 {
		t.Fatalf("history: %d entries, want 9", len(list))
	}
	r.s.Stop()
	r.fn.none(t)
}

// A deaf connection (the site stopped pushing to it) is replaced at the
// next liveness check, and what it missed arrives by catch-up.
func TestCatchupDeafConnectionReplaced(t *testing.T) {
	r := newCatchupRig(t, 0)
	r.terminator()
	if err := r.srv.Deafen(r.lastConn()); err != nil {
		t.Fatal(err)
	}
	r.srv.SendToast("demo", "", titled("lost live"))
	r.clk.Advance(5 * time.Minute) // the liveness check goes out
	r.waitFor("the liveness check", func() bool { return len(r.srv.Received()) == 2 })
	r.clk.Advance(5 * time.Second) // no answer: replaced
	r.clk.Set(r.st.waitFor(t, wsclient.StateWaiting).Until)
	r.waitFor("a new connection", func() bool { return r.srv.Counters().Connects == 2 })
	r.popup("lost live")
	if term := r.terminator(); term.Count != 1 {
		t.Fatalf("terminator %+v", term)
	}
}

// A backlog in pages (the site's cap) still pops up as one summary.
func TestCatchupPagesOneSummary(t *testing.T) {
	r := newCatchupRig(t, 2)
	r.terminator()
	if err := r.srv.Deafen(r.lastConn()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		r.srv.SendToast("demo", "", titled("missed"))
	}
	r.s.Reconnect()
	for _, more := range []bool{true, true, false} {
		if term := r.terminator(); term.More != more {
			t.Fatalf("terminator %+v", term)
		}
	}
	r.popup("5 notifications while you were away — highest: Info")
	r.s.Stop()
	r.fn.none(t)
}
