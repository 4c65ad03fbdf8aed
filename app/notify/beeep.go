package notify

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/toasttray/toasttray/app/settings/atomicfile"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/wsclient"
)

// BeeepOptions configure the desktop Notifier; zero values take defaults.
type BeeepOptions struct {
	// AppName is the name notification servers show and group by, and
	// the display name Windows shows for AppID. (On macOS beeep keeps it in
	// a package variable: the last NewBeeep wins.)
	AppName string // default "ToastTray"
	// AppID is the Windows AppUserModelID toasts are shown under.
	AppID string // default DefaultAppID
	// IconDir receives one PNG per level; default defaultIconDir().
	IconDir string
	// LevelIcon gives a level's PNG; default assets.LevelIcon.
	LevelIcon func(level string) []byte
	Logger    *slog.Logger
	// OpenURL opens a clicked notification's link in the browser; default
	// xdg-open. Used on Linux; Windows opens the link itself.
	OpenURL func(url string) error
	// OnOpen is called with the notification's window (WindowHistory,
	// WindowSettings) when a notification without a link is clicked (on
	// Linux, from the Notifier's D-Bus goroutine: it must not block); nil
	// leaves such notifications without a click action.
	OnOpen func(window string)
}

// DefaultAppID is the app ID of FyneApp.toml, used as the Windows
// AppUserModelID.
const DefaultAppID = "org.toasttray.ToastTray"

// Beeep shows notifications and acts on clicks: on Linux over D-Bus
// directly (notify-send when that fails), on Windows as toasts through the
// Windows Runtime, elsewhere through github.com/gen2brain/beeep. Its calls
// may block; use it behind a Gate. Close it when done.
type Beeep struct {
	opts   BeeepOptions
	escape bool // the platform reads the body as markup

	// show displays n, whose Body is ready for the platform and whose Icon
	// is set; close ends what the platform runs in the background. Both
	// replaceable in tests.
	show  func(n Notification) error
	close func()

	mu    sync.Mutex
	icons map[string]string // level → written PNG path ("" if writing failed)
}

// defaultIconDir is os.UserCacheDir()/toasttray/icons.
func defaultIconDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache folder: %w", err)
	}
	return filepath.Join(d, "toasttray", "icons"), nil
}

// NewBeeep returns the desktop Notifier.
func NewBeeep(opts BeeepOptions) *Beeep {
	if opts.AppName == "" {
		opts.AppName = "ToastTray"
	}
	if opts.AppID == "" {
		opts.AppID = DefaultAppID
	}
	if opts.LevelIcon == nil {
		opts.LevelIcon = assets.LevelIcon
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.IconDir == "" {
		if d, err := defaultIconDir(); err == nil {
			opts.IconDir = d
		} else {
			opts.Logger.Warn("notifications without icons", "err", err)
		}
	}
	b := &Beeep{
		opts: opts,
		// freedesktop servers render body markup; Windows and macOS show
		// text as is, where escaping would show "&amp;".
		escape: runtime.GOOS != "windows" && runtime.GOOS != "darwin",
		icons:  map[string]string{},
	}
	b.show, b.close = newPlatform(opts)
	return b
}

// Notify shows n.
func (b *Beeep) Notify(n Notification) error {
	if b.escape {
		n.Body = escapeMarkup(n.Body)
	}
	if n.Icon == "" {
		n.Icon = b.iconPath(string(n.Level))
	}
	if err := b.show(n); err != nil {
		return fmt.Errorf("showing notification: %w", err)
	}
	return nil
}

// Close stops listening for clicks (on Linux: closes the D-Bus connection
// and waits for its goroutine). Call it after the Gate's Close; it is
// idempotent.
func (b *Beeep) Close() { b.close() }

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
