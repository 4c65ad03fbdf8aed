package notify

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/gen2brain/beeep"

	"github.com/toasttray/toasttray/app/settings/atomicfile"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/wsclient"
)

// BeeepOptions configure the beeep Notifier; zero values take defaults.
type BeeepOptions struct {
	// AppName is the name notification servers show and group by; beeep
	// keeps it in a package variable, so the last NewBeeep wins.
	AppName string // default "ToastTray"
	// IconDir receives one PNG per level; default DefaultIconDir().
	IconDir string
	// LevelIcon gives a level's PNG; default assets.LevelIcon.
	LevelIcon func(level string) []byte
	Logger    *slog.Logger
}

// Beeep shows notifications with github.com/gen2brain/beeep: D-Bus (or
// notify-send) on Linux, toast notifications on Windows, Notification
// Center on macOS. Its calls may block; use it behind a Gate.
type Beeep struct {
	opts   BeeepOptions
	escape bool // the platform reads the body as markup

	// The platform calls, replaceable in tests.
	notify, alert func(title, message string, icon any) error

	mu    sync.Mutex
	icons map[string]string // level → written PNG path ("" if writing failed)
}

// DefaultIconDir is os.UserCacheDir()/toasttray/icons.
func DefaultIconDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache folder: %w", err)
	}
	return filepath.Join(d, "toasttray", "icons"), nil
}

// NewBeeep returns the beeep Notifier and sets beeep.AppName.
func NewBeeep(opts BeeepOptions) *Beeep {
	if opts.AppName == "" {
		opts.AppName = "ToastTray"
	}
	if opts.LevelIcon == nil {
		opts.LevelIcon = assets.LevelIcon
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.IconDir == "" {
		if d, err := DefaultIconDir(); err == nil {
			opts.IconDir = d
		} else {
			opts.Logger.Warn("notifications without icons", "err", err)
		}
	}
	beeep.AppName = opts.AppName
	return &Beeep{
		opts: opts,
		// freedesktop servers render body markup; Windows and macOS show
		// text as is, where escaping would show "&amp;".
		escape: runtime.GOOS != "windows" && runtime.GOOS != "darwin",
		notify: beeep.Notify,
		alert:  beeep.Alert,
		icons:  map[string]string{},
	}
}

// Notify shows n. Urgent notifications with Sound go through beeep.Alert
// (critical urgency and a sound); beeep has no urgent-but-silent call, so
// urgent without Sound is a normal notification.
func (b *Beeep) Notify(n Notification) error {
	body := n.Body
	if b.escape {
		body = EscapeMarkup(body)
	}
	icon := n.Icon
	if icon == "" {
		icon = b.iconPath(string(n.Level))
	}
	call := b.notify
	if n.Urgent && n.Sound {
		call = b.alert
	}
	if err := call(n.Title, body, icon); err != nil {
		return fmt.Errorf("showing notification: %w", err)
	}
	return nil
}

// iconPath writes the level's icon once per process (skipped if the file
// already holds the same bytes) and returns its path; "" if it cannot.
func (b *Beeep) iconPath(level string) string {
	level = string(wsclient.ParseLevel(level)) // one file per known level, no more
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.icons[level]; ok {
		return p
	}
	p := ""
	if b.opts.IconDir != "" {
		if data := b.opts.LevelIcon(level); len(data) > 0 {
			p = filepath.Join(b.opts.IconDir, level+".png")
			if old, err := os.ReadFile(p); err != nil || !bytes.Equal(old, data) {
				if err := atomicfile.Write(p, data, 0o644); err != nil {
					b.opts.Logger.Warn("writing notification icon", "err", err)
					p = ""
				}
			}
		}
	}
	b.icons[level] = p
	return p
}
