package atomicfile

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// saves is a save func that reports each call on a channel and fails
// while fail is set.
type saves struct {
	calls chan struct{}
	mu    sync.Mutex
	fail  error
}

func newSaves() *saves { return &saves{calls: make(chan struct{}, 10)} }

func (s *saves) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls <- struct{}{}
	return s.fail
}

func (s *saves) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// wait waits for one call.
func (s *saves) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.calls:
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("no save")
	}
}

// none checks that save was not called (again).
func (s *saves) none(t *testing.T) {
	t.Helper()
	select {
	case <-s.calls:
		t.Fatal("unexpected save")
	default:
	}
}

const delay = 2 * time.Second

// newDebounced returns a Debounced over a saves, with the failures of its
// goroutine on a channel.
func newDebounced(t *testing.T) (*Debounced, *saves, *clock.Fake, chan error) {
	clk := clock.NewFake(time.Unix(0, 0))
	s := newSaves()
	failed := make(chan error, 10)
	d := NewDebounced(s.save, delay, clk, func(err error) { failed <- err })
	t.Cleanup(func() { d.Close() })
	return d, s, clk, failed
}

// A burst of changes is saved once, delay after the first.
func TestDebouncedSavesOnceAfterDelay(t *testing.T) {
	d, s, clk, _ := newDebounced(t)
	for range 100 {
		d.Changed()
	}
	if dl := clk.Deadlines(); len(dl) != 1 || dl[0] != delay {
		t.Fatalf("deadlines %v, want one of %v for the burst", dl, delay)
	}
	clk.Advance(delay - time.Nanosecond)
	s.none(t)
	clk.Advance(time.Nanosecond)
	s.wait(t)
	if err := d.Flush(); err != nil { // also waits for the goroutine's save
		t.Fatal(err)
	}
	s.none(t)
	d.Changed() // the next change starts a new timer
	if dl := clk.Deadlines(); len(dl) != 1 || dl[0] != delay {
		t.Fatalf("deadlines %v after the save", dl)
	}
}

// Flush and Close save what is pending at once, and only then; after
// Close a change starts no timer and Flush saves it.
func TestDebouncedFlushAndClose(t *testing.T) {
	d, s, clk, _ := newDebounced(t)
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	s.none(t) // nothing changed
	d.Changed()
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	s.wait(t)
	d.Changed()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	s.wait(t)
	s.none(t)
	if n := clk.Waiters(); n != 0 {
		t.Fatalf("%d timers after Close", n)
	}
	d.Changed()
	if n := clk.Waiters(); n != 0 {
		t.Fatal("a change after Close started a timer")
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	s.wait(t)
}

// A failed save is reported, and the next try saves again.
func TestDebouncedErrorKeptForNextTry(t *testing.T) {
	d, s, clk, failed := newDebounced(t)
	boom := errors.New("disk full")
	s.setFail(boom)
	d.Changed()
	clk.Advance(delay)
	s.wait(t)
	if err := d.Flush(); !errors.Is(err, boom) { // the change is still pending
		t.Fatalf("Flush = %v, want %v", err, boom)
	}
	s.wait(t)
	s.setFail(nil)
	if err := d.Close(); err != nil { // saves, after the goroutine has ended
		t.Fatal(err)
	}
	s.wait(t)
	select {
	case err := <-failed:
		if !errors.Is(err, boom) {
			t.Fatalf("reported %v", err)
		}
	default:
		t.Fatal("background failure not reported")
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	s.none(t)
}
