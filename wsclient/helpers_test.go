package wsclient_test

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"

	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// failsafe bounds every wait in these tests; it is never how a test
// synchronises, only how a broken one ends.
const failsafe = 15 * time.Second

var epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// harness is one emulator and one client sharing a fake clock.
type harness struct {
	t      *testing.T
	clk    *clock.Fake
	srv    *wstest.Server
	client *wsclient.Client
	status chan wsclient.Status
	msgs   chan wsclient.Message
	cancel context.CancelFunc
	done   chan error
}

type setup struct {
	srv   wstest.Options
	cfg   func(*wsclient.Config)
	creds *wsclient.Credentials
	opts  func(*wsclient.Options)
}

func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	h := &harness{t: t, clk: clock.NewFake(epoch), status: make(chan wsclient.Status, 4096), msgs: make(chan wsclient.Message, 4096)}
	s.srv.Clock = h.clk
	h.srv = wstest.NewServer(s.srv)
	t.Cleanup(h.srv.Close)
	cfg := wsclient.Config{SiteURL: h.srv.URL, WSURL: h.srv.WSURL, UserAgent: "ToastTray/test"}
	if s.cfg != nil {
		s.cfg(&cfg)
	}
	creds := wsclient.Credentials{Username: "demo", Password: "demo"}
	if s.creds != nil {
		creds = *s.creds
	}
	opts := wsclient.Options{
		Clock:     h.clk,
		Rand:      func() float64 { return 0.5 },
		Watchers:  []wsclient.Watcher{},
		OnStatus:  func(st wsclient.Status) { h.status <- st },
		OnMessage: func(m wsclient.Message) { h.msgs <- m },
	}
	if s.opts != nil {
		s.opts(&opts)
	}
	c, err := wsclient.New(cfg, creds, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.client = c
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.client.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(failsafe):
			h.t.Error("Run did not return after cancel")
		}
	})
}

// waitState returns the first status in state st.
func (h *harness) waitState(st wsclient.State) wsclient.Status {
	h.t.Helper()
	deadline := time.After(failsafe)
	for {
		select {
		case s := <-h.status:
			if s.State == st {
				return s
			}
		case err := <-h.done:
			h.t.Fatalf("Run returned %v while waiting for %v", err, st)
		case <-deadline:
			h.t.Fatalf("no %v status; now %+v", st, h.client.Status())
		}
	}
}

// advanceTo moves the fake clock to t.
func (h *harness) advanceTo(t time.Time) { h.clk.Set(t) }

func (h *harness) waitMsg() wsclient.Message {
	h.t.Helper()
	select {
	case m := <-h.msgs:
		return m
	case <-time.After(failsafe):
		h.t.Fatal("no message")
	}
	return wsclient.Message{}
}

func (h *harness) stop() error {
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err
		return err
	case <-time.After(failsafe):
		h.t.Fatal("Run did not return")
	}
	return nil
}

func toast(i int) map[string]any {
	return map[string]any{"type": "toast", "level": "info", "title": "t", "message": "m", "n": i}
}

func msgN(t *testing.T, m wsclient.Message) int {
	var v struct{ N int }
	if err := json.Unmarshal(m.Raw, &v); err != nil {
		t.Fatal(err)
	}
	return v.N
}

// noLeak fails the test if goroutines started during it are still running
// when it ends (after cleanups). It retries a few times because exiting
// goroutines take a moment to be gone from the runtime's list.
func noLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var n int
		for i := 0; i < 50; i++ {
			n = runtime.NumGoroutine()
			if n <= before {
				return
			}
			runtime.Gosched()
			time.Sleep(20 * time.Millisecond) // lets exiting goroutines finish; not synchronisation of the code under test
		}
		buf := make([]byte, 1<<16)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("goroutines: %d before, %d after\n%s", before, n, stacksOf(string(buf)))
	})
}

func stacksOf(s string) string {
	var out []string
	for _, g := range strings.Split(s, "\n\n") {
		if strings.Contains(g, "wsclient") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// signal returns a hook that sends on a buffered channel.
func signal() (func(), chan struct{}) {
	ch := make(chan struct{}, 1024)
	return func() { ch <- struct{}{} }, ch
}

func waitSignal(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(failsafe):
		t.Fatalf("no %s", what)
	}
}
