// Package assets holds ToastTray's icons, embedded in the binary.
//
// The PNG files are drawn by ./gen and committed; run `go generate ./assets`
// after changing the generator.
package assets

//go:generate go run ./gen -dir .

import (
	"bytes"
	"embed"
	"encoding/binary"
	"fmt"
)

// AppIcon is the application icon: a 256×256 PNG, the same file as
// FyneApp.toml's Icon (assets/icon.png).
//
//go:embed icon.png
var AppIcon []byte

//go:embed tray/*.png tray/systray-linux/*.png level/*.png
var files embed.FS

// TrayState names a tray icon.
type TrayState string

// The tray icons, one per connection state.
const (
	TrayConnected  TrayState = "connected"
	TrayConnecting TrayState = "connecting"
	TrayOffline    TrayState = "offline" // also used for errors
	TraySignedOut  TrayState = "signedout"
	TrayPaused     TrayState = "paused"
)

// TrayStates lists every TrayState, in display order.
var TrayStates = []TrayState{TrayConnected, TrayConnecting, TrayOffline, TraySignedOut, TrayPaused}

// Levels lists the toast levels that LevelIcon draws.
var Levels = []string{"success", "info", "warning", "error"}

// Tray returns the 64×64 PNG tray icon for s. An unknown state gets the
// offline icon.
func Tray(s TrayState) []byte {
	b, err := files.ReadFile("tray/" + string(s) + ".png")
	if err != nil {
		return must(files.ReadFile("tray/" + string(TrayOffline) + ".png"))
	}
	return b
}

// TraySystrayLinux returns Tray(s) adjusted for fyne.io/systray v1.12.2
// on Linux, which turns PNG pixels into the tray's ARGB data wrongly: for
// translucent pixels it sends the low byte of a 16-bit premultiplied
// value, so anti-aliased edges show random colours in the panel. This
// variant's translucent pixels are chosen so that the conversion yields
// the intended colours. Pass it to systray.SetIcon on Linux only; use Tray
// everywhere else (it is a correct PNG, this one is not).
func TraySystrayLinux(s TrayState) []byte {
	b, err := files.ReadFile("tray/systray-linux/" + string(s) + ".png")
	if err != nil {
		return must(files.ReadFile("tray/systray-linux/" + string(TrayOffline) + ".png"))
	}
	return b
}

// TrayICO returns Tray(s) wrapped in an ICO container, for Windows, whose
// tray API takes ICO data (a PNG entry is valid since Windows Vista).
func TrayICO(s TrayState) []byte {
	return pngToICO(Tray(s), 64, 64)
}

// LevelIcon returns the 128×128 PNG notification icon for a toast level
// ("success", "info", "warning", "error"). An unknown level gets the info
// icon, as wsclient.ParseLevel maps unknown levels to info.
func LevelIcon(level string) []byte {
	b, err := files.ReadFile("level/" + level + ".png")
	if err != nil {
		return must(files.ReadFile("level/info.png"))
	}
	return b
}

// pngToICO builds a single-image ICO file holding the PNG as is.
func pngToICO(pngData []byte, w, h int) []byte {
	var buf bytes.Buffer
	le := binary.LittleEndian
	// ICONDIR: reserved, type 1 (icon), one image.
	buf.Write(le.AppendUint16(nil, 0))
	buf.Write(le.AppendUint16(nil, 1))
	buf.Write(le.AppendUint16(nil, 1))
	// ICONDIRENTRY: width, height (0 means 256), colours, reserved,
	// planes, bits per pixel, data size, data offset.
	buf.WriteByte(byte(w % 256))
	buf.WriteByte(byte(h % 256))
	buf.WriteByte(0)
	buf.WriteByte(0)
	buf.Write(le.AppendUint16(nil, 1))
	buf.Write(le.AppendUint16(nil, 32))
	buf.Write(le.AppendUint32(nil, uint32(len(pngData))))
	buf.Write(le.AppendUint32(nil, 6+16))
	buf.Write(pngData)
	return buf.Bytes()
}

// must panics on an error reading an embedded file, which means the
// package was built without its generated files.
func must(b []byte, err error) []byte {
	if err != nil {
		panic(fmt.Sprintf("assets: embedded icon missing: %v", err))
	}
	return b
}
