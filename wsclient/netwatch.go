package wsclient

import (
	"context"
	"log/slog"

	"github.com/toasttray/toasttray/wsclient/netwatch"
)

// netWatcher reports network changes (interfaces, addresses, routes).
func netWatcher(log *slog.Logger) Watcher {
	return func(ctx context.Context, changed func(string)) func() {
		watch := netwatch.Start(ctx)
		return func() {
			if err := watch(changed); err != nil && ctx.Err() == nil {
				log.Warn("network change watcher stopped", "err", err)
			}
		}
	}
}
