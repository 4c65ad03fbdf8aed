package cli

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"
)

// fakeNow is a clock the test moves; the trimmer reads it on its own
// goroutine.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }

func (f *fakeNow) add(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

// The trimmer trims (heap included) once settled after connecting, then
// after garbage collections at most once per gap, never before the first
// trim.
func TestTrimmer(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	calls := make(chan bool, 10)
	tr := &trimmer{
		settle: 0, gap: time.Minute, now: clk.now,
		release: func(heap bool) error { calls <- heap; return nil },
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	connected, gcs := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.run(ctx, connected, gcs); close(done) }()
	next := func() bool {
		t.Helper()
		select {
		case heap := <-calls:
			return heap
		case <-time.After(10 * time.Second): // hang guard
			t.Fatal("no trim")
			return false
		}
	}

	gcs <- struct{}{} // not connected yet: ignored
	connected <- struct{}{}
	if !next() {
		t.Fatal("first trim without the heap")
	}
	clk.add(time.Minute - time.Second)
	gcs <- struct{}{} // within the gap: ignored
	clk.add(time.Second)
	gcs <- struct{}{}
	if next() {
		t.Fatal("trim after a collection freed the heap (a collection of its own)")
	}
	cancel()
	<-done
	if len(calls) != 0 {
		t.Fatalf("%d extra trims", len(calls))
	}
}

// gcCycles reports collections until stopped.
func TestGCCycles(t *testing.T) {
	stop := make(chan struct{})
	ch := gcCycles(stop)
	for range 2 {
		runtime.GC()
		select {
		case <-ch:
		case <-time.After(10 * time.Second): // hang guard
			t.Fatal("collection not reported")
		}
	}
	close(stop)
}
