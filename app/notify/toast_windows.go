package notify

import (
	"fmt"
	"path/filepath"
	"sync"

	"git.sr.ht/~jackmordaunt/go-toast/wintoast"
	"github.com/gen2brain/beeep"
	"golang.org/x/sys/windows/registry"

	"github.com/toasttray/toasttray/app/settings/atomicfile"
	"github.com/toasttray/toasttray/assets"
)

// activatorCLSID is the COM class Windows calls when a toast without a
// link is clicked while the app runs. It is ToastTray's own: go-toast's
// default is shared by every app built with it.
const activatorCLSID = "{3F9D73D7-5BAD-45B5-8C0B-E65FE750B1AC}"

// newPlatform shows toasts through the Windows Runtime, under the app's
// own AppUserModelID (name and icon registered per user), never through
// go-toast's PowerShell fallback, whose script expands $(…) in the text.
//
// Windows before 10 has no toast API, and neither has Wine (which reports
// Windows 7): there beeep shows a balloon tip through Win32 (no PowerShell
// either), without click actions, instead of failing every notification.
func newPlatform(opts BeeepOptions) (show func(Notification) error, closeFn func()) {
	if !hasToastAPI() {
		beeep.AppName = opts.AppName
		return func(n Notification) error {
			if err := beeep.Notify(n.Title, n.Body, n.Icon); err != nil {
				return fmt.Errorf("showing a balloon notification: %w", err)
			}
			return nil
		}, func() {}
	}
	w := &winToast{opts: opts}
	return w.show, func() {}
}

// hasToastAPI reports Windows 10 or later, where toasts go through the
// Windows Runtime (the same test beeep makes).
func hasToastAPI() bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	major, _, err := k.GetIntegerValue("CurrentMajorVersionNumber")
	return err == nil && major >= 10
}

type winToast struct {
	opts   BeeepOptions
	once   sync.Once
	regErr error
}

func (w *winToast) show(n Notification) error {
	w.once.Do(func() { w.regErr = w.register() })
	if w.regErr != nil {
		return w.regErr
	}
	if err := wintoast.Push(toastXML(n)); err != nil {
		return fmt.Errorf("pushing the toast: %w", err)
	}
	return nil
}

// register describes the app to Windows under
// HKCU\Software\Classes\AppUserModelId\<AppID> (display name, icon, click
// activator), which lets an app without an installer package show toasts
// in its own name, and sets the activation callback.
func (w *winToast) register() error {
	key := `SOFTWARE\Classes\AppUserModelId\` + w.opts.AppID
	k, _, err := registry.CreateKey(registry.CURRENT_USER, key, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("registering the app for notifications: %w", err)
	}
	defer k.Close()
	values := map[string]string{"DisplayName": w.opts.AppName, "CustomActivator": activatorCLSID}
	if w.opts.IconDir != "" {
		icon := filepath.Join(w.opts.IconDir, "app.png")
		if err := atomicfile.Write(icon, assets.AppIcon, 0o644); err == nil {
			values["IconUri"] = icon
		} else {
			w.opts.Logger.Warn("writing the notification app icon", "err", err)
		}
	}
	for name, v := range values {
		if err := k.SetStringValue(name, v); err != nil {
			return fmt.Errorf("registering the app for notifications: %s: %w", name, err)
		}
	}
	// go-toast only adds values that are missing: ours stay.
	if err := wintoast.SetAppData(wintoast.AppData{AppID: w.opts.AppID, GUID: activatorCLSID}); err != nil {
		return fmt.Errorf("registering the app for notifications: %w", err)
	}
	onOpen := w.opts.OnOpen
	wintoast.SetActivationCallback(func(_, args string, _ []wintoast.UserData) {
		if (args == WindowHistory || args == WindowSettings) && onOpen != nil {
			onOpen(args)
		}
	})
	return nil
}
