package atomicfile

import (
	"sync"
	"time"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// Debounced coalesces a burst of changes into one save: the first Changed
// starts a timer, and save runs once, delay later, on a goroutine that
// ends after it (or at Close). A flood of toasts costs one write per delay
// instead of one per toast. A failed save counts as not done: the next
// Changed, Flush or Close tries again. Saves never overlap.
type Debounced struct {
	save    func() error // writes what is pending, e.g. with Write
	delay   time.Duration
	clk     clock.Clock
	onError func(error) // a failed save on the goroutine; Flush and Close return theirs

	saving sync.Mutex // held across save

	mu        sync.Mutex
	dirty     bool // changed since the last successful save
	scheduled bool // a goroutine waits for the timer
	closed    bool
	stop      chan struct{} // closed by Close: the waiting goroutine saves now
	wg        sync.WaitGroup
}

// NewDebounced returns a Debounced that calls save delay after a change,
// and onError (e.g. a log line) when that save fails.
func NewDebounced(save func() error, delay time.Duration, clk clock.Clock, onError func(error)) *Debounced {
	return &Debounced{save: save, delay: delay, clk: clk, onError: onError, stop: make(chan struct{})}
}

// Changed marks something to save and starts the timer if none runs.
// After Close it starts none: Flush saves what is left.
func (d *Debounced) Changed() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dirty = true
	if d.scheduled || d.closed {
		return
	}
	d.scheduled = true
	t := d.clk.NewTimer(d.delay)
	d.wg.Add(1)
	go d.saveAfter(t)
}

// saveAfter saves when the timer fires or Close is called.
func (d *Debounced) saveAfter(t clock.Timer) {
	defer d.wg.Done()
	select {
	case <-t.C():
	case <-d.stop:
		t.Stop()
	}
	d.mu.Lock()
	d.scheduled = false // a change from now on starts a new timer
	d.mu.Unlock()
	if err := d.Flush(); err != nil {
		d.onError(err)
	}
}

// Flush saves now if anything changed since the last successful save.
func (d *Debounced) Flush() error {
	d.saving.Lock()
	defer d.saving.Unlock()
	d.mu.Lock()
	dirty := d.dirty
	d.dirty = false
	d.mu.Unlock()
	if !dirty {
		return nil
	}
	if err := d.save(); err != nil {
		d.mu.Lock()
		d.dirty = true
		d.mu.Unlock()
		return err
	}
	return nil
}

// Close ends the waiting goroutine and saves what is pending. Later
// changes start no timer. Close is idempotent.
func (d *Debounced) Close() error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.stop)
	}
	d.mu.Unlock()
	d.wg.Wait()
	return d.Flush()
}
