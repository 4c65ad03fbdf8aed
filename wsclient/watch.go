package wsclient

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// Wake detection: look every wakeEvery; if more than wakeEvery+wakeSlack
// of wall time passed, the machine slept (or the clock was set) and the
// socket may be dead without knowing it.
const (
	wakeEvery = 10 * time.Second
	wakeSlack = 20 * time.Second
)

// defaultWatchers are the clock-jump (sleep/wake) detector on the real
// clock and the OS network-change watcher. They sense the machine, so a
// fake clock given to the client (tests) does not drive them.
func defaultWatchers(log *slog.Logger) []Watcher {
	return []Watcher{WakeWatcher(clock.Real, wakeEvery, wakeSlack), netWatcher(log)}
}

// WakeWatcher reports a wall-clock jump: between two ticks every apart,
// more than every+slack passed (or the clock went back by more than slack).
// Wall time is compared because monotonic time stops during sleep on most
// systems. The first wall time is read when Run arms the watcher, before
// it connects.
func WakeWatcher(clk clock.Clock, every, slack time.Duration) Watcher {
	return func(ctx context.Context, changed func(string)) func() {
		last := clk.Now().Round(0)
		return func() {
			// A timer re-armed after each look, not a ticker: the gap is
			// measured from the last look, and a test can tell (a pending
			// timer again) that a look has been taken.
			t := clk.NewTimer(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C():
					now := clk.Now().Round(0)
					if gap := now.Sub(last); gap > every+slack || gap < -slack {
						changed(fmt.Sprintf("the clock jumped by %s (sleep or wake)", (gap - every).Round(time.Second)))
					}
					last = now
					t.Reset(every)
				}
			}
		}
	}
}
