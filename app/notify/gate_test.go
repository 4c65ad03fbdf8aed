package notify

import (
	"errors"
	"fmt"
	"log/slog"
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

// none checks that nothing more was shown. stats.Shown counts a popup
// before the Notifier gets it, so comparing it with the popups received
// is exact.
func (r *recorder) none(t *testing.T, g *Gate, shown int) {
	t.Helper()
	if s := statsOf(g).Shown; s != shown {
		t.Fatalf("shown %d, want %d", s, shown)
	}
	select {
	case n := <-r.ch:
		t.Fatalf("unexpected popup %+v", n)
	default:
	}
}

// statsOf reads the gate's counters.
func statsOf(g *Gate) gateStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// pausedUntil reads the end of the gate's pause: zero once it has run out
// (the gate's timer clears it) or was resumed.
func pausedUntil(g *Gate) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pausedUntil
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
	if s := statsOf(g); s.Filtered != 2 || s.Submitted != 5 {
		t.Fatalf("%+v", s)
	}
}

// The gate shows what it is given, shown at once, announced or held by
// the burst: the decoder bounded the text once.
func TestGateKeepsText(t *testing.T) {
	g, r, clk := newGate(t, GateOptions{Burst: 1, Settle: time.Second})
	toast := decodedLong(t)
	long := Notification{Title: toast.Title, Body: toast.Message, Level: wsclient.LevelInfo}
	g.Submit(long)
	g.Announce(long)
	g.Submit(long) // over the burst: held, then shown in full as the only one
	for range 2 {
		if got := r.next(t); got != long {
			t.Fatalf("cut again: %d of %d bytes", len(got.Body), len(long.Body))
		}
	}
	clk.BlockUntil(1, nil)
	clk.Advance(time.Second)
	if got := r.next(t); got != long {
		t.Fatalf("held one cut: %d of %d bytes", len(got.Body), len(long.Body))
	}
}

// A burst shows three popups; the rest become one summary as soon as the
// burst is over (Settle), not when the window ends. It names the highest
// level and opens the history. A second summary in the same window waits
// for the window's end, and counts as the next window's first popup.
func TestBurstCoalescing(t *testing.T) {
	g, r, clk := newGate(t, GateOptions{})
	levels := []wsclient.Level{"info", "info", "info", "info", "warning", "success", "info", "info"}
	for i, l := range levels {
		g.Submit(n(l, fmt.Sprint(i)))
	}
	for i := range 3 {
		if got := r.next(t).Title; got != fmt.Sprint(i) {
			t.Fatalf("popup %d = %s", i, got)
		}
	}
	clk.BlockUntil(1, nil)
	if d := clk.Deadlines(); len(d) != 1 || d[0] != DefaultSettle {
		t.Fatalf("deadlines %v, want the summary %v after the burst", d, DefaultSettle)
	}
	r.none(t, g, 3)
	clk.Advance(DefaultSettle)
	want := Notification{Title: "5 more notifications — highest: Warning",
		Body:  "1 warning, 1 success, 3 info — click to see them in Notification history",
		Level: "warning", Window: WindowHistory}
	if s := r.next(t); s != want {
		t.Fatalf("summary %+v", s)
	}
	// Still in the first window: the next summary waits for its end.
	for i := range 2 {
		g.Submit(n("info", fmt.Sprint("w1-", i)))
	}
	clk.BlockUntil(1, nil)
	if d := clk.Deadlines(); len(d) != 1 || d[0] != DefaultWindow-DefaultSettle {
		t.Fatalf("deadlines %v", d)
	}
	clk.Advance(DefaultWindow - DefaultSettle)
	if s := r.next(t); s.Title != "2 more notifications — highest: Info" || s.Urgent {
		t.Fatalf("%+v", s)
	}
	// The summary opened a new window: two more popups fit.
	g.Submit(n("info", "w2-0"))
	g.Submit(n("info", "w2-1"))
	if r.next(t).Title != "w2-0" || r.next(t).Title != "w2-1" {
		t.Fatal("new window")
	}
	// A quiet window ends without a summary and without a timer.
	clk.Advance(10 * time.Second)
	if clk.Waiters() != 0 {
		t.Fatalf("idle gate holds timers: %v", clk.Deadlines())
	}
	st := statsOf(g)
	if st.Coalesced != 7 || st.Submitted != 12 || st.Shown != 7 {
		t.Fatalf("%+v", st)
	}
}

// An error always pops up on its own, whatever the burst: as the fourth
// toast 1.5 s apart, and in the middle of a burst of eight.
func TestErrorNeverCoalesced(t *testing.T) {
	g, r, clk := newGate(t, GateOptions{})
	for i, l := range []wsclient.Level{"info", "warning", "info", "error"} {
		if i > 0 {
			clk.Advance(1500 * time.Millisecond)
		}
		g.Submit(n(l, fmt.Sprint("slow-", i)))
		if got := r.next(t); got.Title != fmt.Sprint("slow-", i) || got.Level != l {
			t.Fatalf("popup %d: %+v", i, got)
		}
	}
	clk.Advance(DefaultWindow) // a fresh window
	levels := []wsclient.Level{"info", "info", "info", "info", "error", "info", "error", "warning"}
	for i, l := range levels {
		g.Submit(n(l, fmt.Sprint(i)))
	}
	for _, want := range []string{"0", "1", "2", "4", "6"} {
		if got := r.next(t).Title; got != want {
			t.Fatalf("popup %s, want %s", got, want)
		}
	}
	clk.BlockUntil(1, nil)
	clk.Advance(DefaultSettle)
	if s := r.next(t); s.Title != "3 more notifications — highest: Warning" || s.Level != "warning" || s.Urgent {
		t.Fatalf("summary %+v", s)
	}
	if st := statsOf(g); st.Coalesced != 3 {
		t.Fatalf("%+v", st)
	}
}

// A single toast over the burst is shown in full once the burst is over,
// not as "1 more notification".
func TestSingleLeftoverShownInFull(t *testing.T) {
	g, r, clk := newGate(t, GateOptions{})
	for i := range 4 {
		g.Submit(Notification{Title: fmt.Sprint(i), Body: "body", Level: "info", URL: "https://example.com/"})
	}
	for range 3 {
		r.next(t)
	}
	clk.BlockUntil(1, nil)
	clk.Advance(DefaultSettle)
	want := Notification{Title: "3", Body: "body", Level: "info", URL: "https://example.com/"}
	if got := r.next(t); got != want {
		t.Fatalf("leftover %+v", got)
	}
	if st := statsOf(g); st.Coalesced != 1 || st.Shown != 4 {
		t.Fatalf("%+v", st)
	}
}

// Announcements ignore the level filter and the burst, not a pause.
func TestAnnounce(t *testing.T) {
	g, r, _ := newGate(t, GateOptions{MinLevel: "error", Burst: 1})
	g.Submit(n("error", "e"))
	g.Announce(n("warning", "offline"))
	if r.next(t).Title != "e" || r.next(t).Title != "offline" {
		t.Fatal("order")
	}
	g.Pause(t0.Add(time.Hour), true)
	g.Announce(n("warning", "offline again"))
	g.Announce(n("error", "signed out"))
	if got := r.next(t).Title; got != "signed out" {
		t.Fatalf("got %s", got)
	}
	r.none(t, g, 3)
	if st := statsOf(g); st.Paused != 1 || st.Coalesced != 0 {
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
	g.Pause(until, false)
	if !pausedUntil(g).Equal(until) || !(<-pauses).Equal(until) {
		t.Fatal(pausedUntil(g))
	}
	g.Submit(n("error", "during pause"))
	clk.BlockUntil(1, nil) // the worker waits for the pause to end
	clk.Advance(15*time.Minute - time.Nanosecond)
	g.Submit(n("error", "still paused"))
	clk.Advance(time.Nanosecond)
	if u := <-pauses; !u.IsZero() { // from the Gate's timer
		t.Fatalf("OnPause(%v) at the end of the pause", u)
	}
	if !pausedUntil(g).IsZero() {
		t.Fatal("still paused")
	}
	g.Submit(n("info", "after"))
	if got := r.next(t).Title; got != "after" {
		t.Fatalf("got %s", got)
	}
	if s := statsOf(g); s.Paused != 2 || s.Shown != 1 {
		t.Fatalf("%+v", s)
	}
}

// "Pause, but show errors": errors pop up during the pause, the rest not.
func TestPauseShowingErrors(t *testing.T) {
	g, r, _ := newGate(t, GateOptions{})
	g.Pause(t0.Add(time.Hour), true)
	g.Submit(n("warning", "w"))
	g.Submit(n("error", "e"))
	if got := r.next(t).Title; got != "e" {
		t.Fatalf("got %s", got)
	}
	r.none(t, g, 1)
	if st := statsOf(g); st.Paused != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestResumeAndPastPause(t *testing.T) {
	g, r, _ := newGate(t, GateOptions{})
	g.Pause(t0.Add(time.Hour), false)
	g.Resume()
	g.Submit(n("info", "a"))
	if r.next(t).Title != "a" {
		t.Fatal()
	}
	g.Pause(t0.Add(-time.Minute), false)
	if !pausedUntil(g).IsZero() {
		t.Fatal("past pause took effect")
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
	if s := statsOf(g); s.Coalesced != 10000-4 {
		t.Fatalf("%+v", s)
	}
	close(b.release)
	g.Close()
}

// Shown counts a popup the Notifier has, while the call still runs, so
// whoever has seen the popup sees it counted; a failed call counts as
// shown and failed.
func TestStatsCountPopupInNotifier(t *testing.T) {
	b := &blocking{entered: make(chan struct{}, 1), release: make(chan struct{})}
	g := NewGate(b, GateOptions{Clock: clock.NewFake(t0)})
	t.Cleanup(g.Close)
	t.Cleanup(func() { close(b.release) }) // runs first
	g.Submit(n("info", "stuck"))
	<-b.entered
	if s := statsOf(g); s.Shown != 1 {
		t.Fatalf("popup in the Notifier not counted: %+v", s)
	}

	f := &failing{ch: make(chan Notification, 1)}
	g2 := NewGate(f, GateOptions{Clock: clock.NewFake(t0), Logger: slog.New(slog.DiscardHandler)})
	g2.Submit(n("info", "lost"))
	<-f.ch
	g2.Close() // Failed is known when the call returned
	if s := statsOf(g2); s.Shown != 1 || s.Failed != 1 {
		t.Fatalf("%+v", s)
	}
}

// failing is a Notifier without a desktop: it gets the popup and fails.
type failing struct{ ch chan Notification }

func (f *failing) Notify(n Notification) error {
	f.ch <- n
	return errors.New("no notification server")
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
		st := statsOf(g)
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
// three or fewer are shown one by one. Errors in a long backlog pop up
// on their own and the summary counts the rest; a single rest is shown in
// full.
func TestSubmitMissed(t *testing.T) {
	g, r, clk := newGate(t, GateOptions{Burst: 100})
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
	if got.Title != "12 notifications while you were away — highest: Warning" || got.Level != wsclient.LevelWarning ||
		got.Urgent || got.Window != WindowHistory ||
		got.Body != "1 warning, 11 info — click to see them in Notification history" {
		t.Fatalf("summary %+v", got)
	}
	if m.Len() != 0 {
		t.Fatalf("backlog not emptied: %d", m.Len())
	}

	for i, l := range []wsclient.Level{"info", "error", "success", "info", "error", "info"} {
		m.Add(n(l, fmt.Sprint(i)))
	}
	g.SubmitMissed(&m)
	for _, want := range []string{"1", "4", "4 more notifications while you were away — highest: Success"} {
		if got := r.next(t).Title; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	for i, l := range []wsclient.Level{"error", "error", "warning", "error"} {
		m.Add(n(l, fmt.Sprint("one-", i)))
	}
	g.SubmitMissed(&m)
	for _, want := range []string{"one-0", "one-1", "one-3", "one-2"} {
		if got := r.next(t).Title; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	for i := 0; i < 3; i++ {
		m.Add(n(wsclient.LevelInfo, fmt.Sprint("few-", i)))
	}
	g.SubmitMissed(&m)
	for i := 0; i < 3; i++ {
		if got := r.next(t).Title; got != fmt.Sprint("few-", i) {
			t.Fatalf("popup %d: %q", i, got)
		}
	}
	r.none(t, g, 11)
	if clk.Waiters() != 0 {
		t.Fatal("timers")
	}
}

// A backlog's summary obeys the burst like one toast: over the burst, and
// alone, it is shown in full after the burst is over.
func TestSubmitMissedOverBurst(t *testing.T) {
	g, r, clk := newGate(t, GateOptions{})
	var m Missed
	for i := 0; i < 3; i++ {
		g.Submit(n("info", fmt.Sprint("live-", i)))
		r.next(t)
	}
	for i := 0; i < 5; i++ {
		m.Add(n("info", fmt.Sprint(i)))
	}
	g.SubmitMissed(&m)
	clk.BlockUntil(1, nil)
	clk.Advance(DefaultSettle)
	if got := r.next(t).Title; got != "5 notifications while you were away — highest: Info" {
		t.Fatalf("got %q", got)
	}
}
