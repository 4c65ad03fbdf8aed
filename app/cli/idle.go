package cli

import (
	"context"
	"log/slog"
	"runtime"
	"time"
)

// Idle trimming. listen shares its binary with the tray, so at start it
// initialises GUI packages it never uses and maps far more of the binary
// and its libraries than it runs: the kernel maps file pages around each
// page touched, on recent kernels (6.18) whole page-cache folios of up to
// 2 MB. Once connected and idle, listen gives back what it does not use
// (releaseMemory): the heap's free pages, and the resident pages of the
// clean read-only file mappings — the executable's code and constants,
// the libraries'. A garbage collection, every two minutes even when idle,
// touches code and type data all over the binary again, so the file
// pages are dropped again after each one.

const (
	// trimSettle is how long after connecting listen waits before it
	// trims: the start-up burst (sign-in, token, handshake) is over.
	trimSettle = 10 * time.Second
	// trimGap bounds how often garbage collections trigger a trim, so a
	// flood of messages does not turn into a flood of trims.
	trimGap = 30 * time.Second
)

// trimmer decides when to give memory back.
type trimmer struct {
	settle, gap time.Duration
	now         func() time.Time
	// release gives memory back; freeHeap also returns the heap's free
	// pages to the OS, which costs a garbage collection.
	release func(freeHeap bool) error
	log     *slog.Logger
}

func newTrimmer(log *slog.Logger) *trimmer {
	return &trimmer{settle: trimSettle, gap: trimGap, now: time.Now, release: releaseMemory, log: log}
}

// run trims t.settle after each connection (reported on connected) and
// after garbage collections (reported on gcs) once it has trimmed, until
// ctx ends.
func (t *trimmer) run(ctx context.Context, connected, gcs <-chan struct{}) {
	var (
		settle  <-chan time.Time
		timer   *time.Timer
		trimmed bool
		last    time.Time
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-connected:
			if timer == nil {
				timer = time.NewTimer(t.settle)
			} else {
				timer.Reset(t.settle)
			}
			settle = timer.C
		case <-settle:
			settle = nil
			// The heap trim runs a collection, whose report is dropped
			// below as too soon after this trim. The time is noted
			// first, so it never depends on how long the trim takes.
			trimmed, last = true, t.now()
			t.trim(true)
		case <-gcs:
			if trimmed && settle == nil && t.now().Sub(last) >= t.gap {
				last = t.now()
				t.trim(false)
			}
		}
	}
}

func (t *trimmer) trim(freeHeap bool) {
	// Logged before: logging after would map much of what was dropped.
	t.log.Debug("giving memory back", "heap", freeHeap)
	if err := t.release(freeHeap); err != nil {
		t.log.Debug("giving memory back failed", "err", err)
	}
}

// gcCycles reports the end of garbage collections on the returned channel
// (dropping reports the receiver is not ready for) until stop is closed.
func gcCycles(stop <-chan struct{}) <-chan struct{} {
	ch := make(chan struct{}, 1)
	watchGC(ch, stop)
	return ch
}

// gcSentinel is a heap object nothing refers to: its cleanup runs after
// the next collection. Larger than the tiny allocator's 16 bytes, so it
// is never batched with a live object.
type gcSentinel [32]byte

func watchGC(ch chan<- struct{}, stop <-chan struct{}) {
	runtime.AddCleanup(new(gcSentinel), func(struct{}) {
		select {
		case <-stop:
			return
		default:
		}
		// Re-armed first: a collection that starts after the report
		// finds the new sentinel already allocated, so reports it too.
		watchGC(ch, stop)
		select {
		case ch <- struct{}{}:
		default:
		}
	}, struct{}{})
}
