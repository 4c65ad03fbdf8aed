package notify

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// recorder is a fake Notifier: every call goes to a channel.
type recorder struct{ ch chan Notification }

func newRecorder() *recorder { return &recorder{ch: make(chan Notification, 100)} }

func (r *recorder) Notify(n Notification) error { r.ch <- n; return nil }

func (r *recorder) next(t *testing.T) Notification {
	t.Helper()
	select {
	case n := <-r.ch:
		return n
	case <-time.After(5 * time.Second): // a hang guard, not synchronisation
		t.Fatal("no notification")
		return Notification{}
	}
}

// none checks that nothing more was shown. Stats().Shown counts calls that
// returned, so comparing it with the popups received is exact.
func (r *recorder) none(t *testing.T, g *Gate, shown int) {
	t.Helper()
	if s := g.Stats().Shown; s != shown {
		t.Fatalf("shown %d, want %d", s, shown)
	}
	select {
	case n := <-r.ch:
		t.Fatalf("unexpected popup %+v", n)
	default:
	}
}

func newGate(t *testing.T, opts GateOptions) (*Gate, *recorder, *clock.Fake) {
	clk := clock.NewFake(t0)
	opts.Clock = clk
	r := newRecorder()
	g := NewGate(r, opts)
	t.Cleanup(g.Close)
	return g, r, clk
}

func n(level wsclient.Level, title string) Notification {
	return Notification{Title: title, Level: level, Urgent: level == "error", Sound: level == "error"}
}

func TestMinLevel(t *testing.T) {
	g, r, _ := newGate(t, GateOptions{MinLevel: "warning", Burst: 10})
	for _, l := range []wsclient.Level{"info", "success", "warning", "error"} {
		g.Submit(n(l, string(l)))
	}
	if got := r.next(t).Title + "," + r.next(t).Title; got != "warning,error" {
		t.Fatal(got)
	}
	g.SetMinLevel("")
	g.Submit(n("info", "info"))
	if r.next(t).Title != "info" {
		t.Fatal("SetMinLevel ignored")
	}
	if s := g.Stats(); s.Filtered != 2 || s.Submitted != 5 {
		t.Fatalf("%+v", s)
	}
}

func TestBurstCoalescing(t *testing.T) {
	g, r, clk := newGate(t, GateOptions{})
	levels := []wsclient.Level{"info", "info", "info", "info", "error", "warning", "info"}
	for i, l := range levels {
		g.Submit(n(l, fmt.Sprint(i)))
	}
	for i := range 3 {
		if got := r.next(t).Title; got != fmt.Sprint(i) {
			t.Fatalf("popup %d = %s", i, got)
		}
	}
	// The worker now waits for the window's end; nothing else shows.
	clk.BlockUntil(1, nil)
	if d := clk.Deadlines(); len(d) != 1 || d[0] != 10*time.Second {
		t.Fatalf("deadlines %v", d)
	}
	r.none(t, g, 3)
	clk.Advance(9 * time.Second)
	r.none(t, g, 3)
	clk.Advance(time.Second)
	s := r.next(t)
	want := Notification{Title: "4 more notifications", Body: "1 error, 1 warning, 2 info — see Notification history", Level: "error", Urgent: true, Sound: true}
	if s != want {
		t.Fatalf("summary %+v", s)
	}
	// The summary opened a new window: two more popups fit, then coalesce.
	for i := range 3 {
		g.Submit(n("info", fmt.Sprint("w2-", i)))
	}
	r.next(t)
	r.next(t)
	clk.BlockUntil(1, nil)
	clk.Advance(10 * time.Second)
	if s := r.next(t); s.Title != "1 more notification" || s.Urgent || s.Level != "info" {
		t.Fatalf("%+v", s)
	}
	// A quiet window ends without a summary and without a timer.
	clk.Advance(10 * time.Second)
	g.Submit(n("info", "later"))
	if r.next(t).Title != "later" {
		t.Fatal("new window")
	}
	st := g.Stats()
	if st.Coalesced != 5 || st.Submitted != 11 {
		t.Fatalf("%+v", st)
	}
}

// The window is not a sliding one: three popups at 0 s, a fourth toast at
// 10 s starts a new window and shows.
func TestWindowBoundary(t *testing.T) {
	g, r, clk := newGate(t, GateOptions{})
	for i := range 3 {
		g.Submit(n("info", fmt.Sprint(i)))
	}
	r.next(t)
	r.next(t)
	r.next(t)
	clk.Advance(10 * time.Second)
	g.Submit(n("info", "x"))
	if r.next(t).Title != "x" {
		t.Fatal()
	}
	if clk.Waiters() != 0 {
		t.Fatalf("idle gate holds timers: %v", clk.Deadlines())
	}
}

func TestPause(t *testing.T) {
	pauses := make(chan time.Time, 10)
	g, r, clk := newGate(t, GateOptions{OnPause: func(u time.Time) { pauses <- u }})
	until := t0.Add(15 * time.Minute)
	g.Pause(until)
	if !g.PausedUntil().Equal(until) || !(<-pauses).Equal(until) {
		t.Fatal(g.PausedUntil())
	}
	g.Submit(n("error", "during pause"))
	clk.BlockUntil(1, nil) // the worker waits for the pause to end
	clk.Advance(15*time.Minute - time.Nanosecond)
	g.Submit(n("error", "still paused"))
	clk.Advance(time.Nanosecond)
	if u := <-pauses; !u.IsZero() { // from the Gate's timer
		t.Fatalf("OnPause(%v) at the end of the pause", u)
	}
	if !g.PausedUntil().IsZero() {
		t.Fatal("still paused")
	}
	g.Submit(n("info", "after"))
	if got := r.next(t).Title; got != "after" {
		t.Fatalf("got %s", got)
	}
	g.Close() // Shown counts calls that returned: wait for them
	if s := g.Stats(); s.Paused != 2 || s.Shown != 1 {
		t.Fatalf("%+v", s)
	}
}

func TestResumeAndPastPause(t *testing.T) {
	g, r, _ := newGate(t, GateOptions{})
	g.Pause(t0.Add(time.Hour))
	g.Resume()
	g.Submit(n("info", "a"))
	if r.next(t).Title != "a" {
		t.Fatal()
	}
	g.Pause(t0.Add(-time.Minute))
	if !g.PausedUntil().IsZero() {
		t.Fatal("past pause took effect")
	}
}

func TestTomorrow(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	for _, now := range []time.Time{
		time.Date(2026, 11, 26, 23, 50, 0, 0, loc),
		time.Date(2026, 11, 26, 0, 10, 0, 0, loc),
		time.Date(2026, 12, 31, 12, 0, 0, 0, loc),
	} {
		got := Tomorrow(now)
		y, m, d := now.AddDate(0, 0, 1).Date()
		if got != time.Date(y, m, d, 8, 0, 0, 0, loc) {
			t.Errorf("Tomorrow(%v) = %v", now, got)
		}
	}
}

// blocking is a Notifier stuck in a D-Bus call until released.
type blocking struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) Notify(Notification) error {
	select {
	case b.entered <- struct{}{}:
	default: // only the first call is awaited
	}
	<-b.release
	return nil
}

// A stuck Notifier never blocks Submit, and the queue stays bounded.
func TestStuckNotifierDoesNotBlockSubmit(t *testing.T) {
	b := &blocking{entered: make(chan struct{}, 1), release: make(chan struct{})}
	g := NewGate(b, GateOptions{Clock: clock.NewFake(t0), Burst: 1000, Queue: 4})
	g.Submit(n("info", "first"))
	<-b.entered
	for range 10000 {
		g.Submit(n("info", "x"))
	}
	g.mu.Lock()
	q := len(g.queue)
	g.mu.Unlock()
	if q > 4 {
		t.Fatalf("queue grew to %d", q)
	}
	if s := g.Stats(); s.Coalesced != 10000-4 {
		t.Fatalf("%+v", s)
	}
	close(b.release)
	g.Close()
}

func TestCloseEndsWorker(t *testing.T) {
	g := NewGate(newRecorder(), GateOptions{Clock: clock.NewFake(t0)})
	g.Close()
	g.Close()
	g.Submit(n("info", "after close"))
}

// BenchmarkFlood submits 10,000 toasts per iteration over 10 s of fake
// time and reports how many the gate let through as popups (the rest are
// coalesced) and the cost per toast. B/op and allocs/op are per flood:
// memory must not grow with the flood.
func BenchmarkFlood(b *testing.B) {
	const flood = 10000
	body := string(make([]byte, 2000))
	var passed, coalesced int
	b.ReportAllocs()
	for range b.N {
		clk := clock.NewFake(t0)
		g := NewGate(&countingNotifier{}, GateOptions{Clock: clk})
		for i := range flood {
			g.Submit(Notification{Title: "t", Body: body, Level: "info"})
			if i%1000 == 999 {
				clk.Advance(time.Second)
			}
		}
		g.Close()
		st := g.Stats()
		passed += st.Submitted - st.Coalesced
		coalesced += st.Coalesced
	}
	b.ReportMetric(float64(passed)/float64(b.N), "popups/flood")
	b.ReportMetric(float64(coalesced)/float64(b.N), "coalesced/flood")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*flood), "ns/toast")
}

type countingNotifier struct {
	mu sync.Mutex
	n  int
}

func (c *countingNotifier) Notify(Notification) error {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return nil
}

// A backlog of more than three becomes one popup at its highest level;
// three or fewer are shown one by one.
func TestSubmitMissed(t *testing.T) {
	g, r, _ := newGate(t, GateOptions{})
	var m Missed
	for i := 0; i < 12; i++ {
		level := wsclient.LevelInfo
		if i == 5 {
			level = wsclient.LevelWarning
		}
		m.Add(n(level, fmt.Sprint(i)))
	}
	g.SubmitMissed(&m)
	got := r.next(t)
	if got.Title != "12 notifications while you were away" || got.Level != wsclient.LevelWarning || got.Urgent ||
		got.Body != "1 warning, 11 info — see Notification history" {
		t.Fatalf("summary %+v", got)
	}
	if m.Len() != 0 {
		t.Fatalf("backlog not emptied: %d", m.Len())
	}
	for i := 0; i < 3; i++ {
		m.Add(n(wsclient.LevelError, fmt.Sprint(i)))
	}
	g.SubmitMissed(&m)
	for i := 0; i < 2; i++ { // the burst window has room for two more
		if got := r.next(t); got.Title != fmt.Sprint(i) {
			t.Fatalf("popup %d: %+v", i, got)
		}
	}
	if st := g.Stats(); st.Submitted != 4 || st.Coalesced != 1 {
		t.Fatalf("%+v", st)
	}
}
