package wstest

import (
	"context"
	"fmt"
	"time"
)

// DemoToast returns the i-th toast of the demo sequence: each level in turn,
// one with a link (History's Open button) and one with markup characters
// that must show as text.
func DemoToast(i int) map[string]any {
	levels := []struct{ level, title, message string }{
		{"success", "Saved", "Your changes were saved."},
		{"info", "Heads up", "A new report is ready to view."},
		{"warning", "Disk space low", "Only 5% of storage is left <10% is the limit> & falling."},
		{"error", "Sync failed", "Could not reach the payment provider."},
	}
	l := levels[i%len(levels)]
	t := map[string]any{
		"type":    "toast",
		"level":   l.level,
		"title":   l.title,
		"message": fmt.Sprintf("%s (demo #%d)", l.message, i+1),
	}
	if l.level == "info" {
		t["url"] = "https://example.com/reports/latest"
	}
	return t
}

// StartDemoToasts pushes DemoToast(0), DemoToast(1), … to the default
// channel every interval of the server's clock, until ctx ends, stop is
// called or the server closes. stop waits for the goroutine to end.
func StartDemoToasts(ctx context.Context, s *Server, every time.Duration) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	started := s.goroutine(func() {
		defer close(done)
		t := s.clock.NewTicker(every)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-t.C():
				n := s.Push("", DemoToast(i))
				s.log.Debug("wstest: demo toast", "level", DemoToast(i)["level"], "connections", n)
			case <-ctx.Done():
				return
			case <-s.done:
				return
			}
		}
	})
	if !started {
		close(done)
	}
	return func() {
		cancel()
		<-done
	}
}
