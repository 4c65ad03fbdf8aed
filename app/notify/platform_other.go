//go:build !linux && !windows

package notify

import "github.com/gen2brain/beeep"

// newPlatform shows notifications through beeep (Notification Center on
// macOS), which offers no click actions. Urgent notifications with Sound go
// through beeep.Alert (critical, with a sound); beeep has no
// urgent-but-silent call, so urgent without Sound is a normal notification.
func newPlatform(opts BeeepOptions) (show func(Notification) error, closeFn func()) {
	beeep.AppName = opts.AppName
	return func(n Notification) error {
		if n.Urgent && n.Sound {
			return beeep.Alert(n.Title, n.Body, n.Icon)
		}
		return beeep.Notify(n.Title, n.Body, n.Icon)
	}, func() {}
}
