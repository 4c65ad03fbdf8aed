// Package autostart turns "start at login" on and off, per user and
// without admin rights: an XDG autostart .desktop file on Linux and the
// BSDs, a value under the per-user Run key on Windows, a LaunchAgent on
// macOS.
//
// The entry starts the tray process with Flag, which runs hidden in the
// tray (it opens Settings only on a first run) and, when ToastTray is
// already running (a machine-wide entry started it too), exits quietly.
//
// An administrator may start ToastTray for everyone instead (MachineWide):
// /etc/xdg/autostart, the HKLM Run key, /Library/LaunchAgents.
package autostart

import (
	"fmt"
	"os"
	"strings"

	"github.com/toasttray/toasttray/app/text"
)

// Flag is the argument of every login entry (Tray's, the .msi's Run
// value, the one docs/DEPLOYMENT.md gives administrators): a start at
// login, which exits quietly when ToastTray already runs instead of asking
// it to show Settings.
const Flag = "--autostart"

// App describes what to start at login.
type App struct {
	ID   string   // reverse-DNS app ID: file and registry value names
	Name string   // shown by the desktop's startup-apps settings
	Exec string   // absolute path of the binary; default os.Executable()
	Args []string // extra arguments
}

// Tray is the login entry of the tray process of the app appID.
func Tray(appID string) App {
	return App{ID: appID, Name: "ToastTray", Args: []string{Flag}}
}

// Enable makes the app start at login, replacing an older entry (for
// example one pointing at a moved binary).
func (a App) Enable() error {
	a, err := a.resolved()
	if err != nil {
		return fmt.Errorf("enabling start at login: %w", err)
	}
	if err := enable(a); err != nil {
		return fmt.Errorf("enabling start at login: %w", err)
	}
	return nil
}

// Disable removes the entry; none there is not an error.
func (a App) Disable() error {
	if err := disable(a); err != nil {
		return fmt.Errorf("disabling start at login: %w", err)
	}
	return nil
}

// MachineWide returns where an entry that starts the app for every user
// is (an administrator's or the installer's: a file of the same name in
// an XDG config folder's autostart, a value of the same name under the
// HKLM Run key, /Library/LaunchAgents), or "" when there is none.
func (a App) MachineWide() (string, error) {
	where, err := machineWide(a)
	if err != nil {
		return "", fmt.Errorf("looking for a machine-wide start at login: %w", err)
	}
	return where, nil
}

// Set enables or disables, for a checkbox.
func (a App) Set(on bool) error {
	if on {
		return a.Enable()
	}
	return a.Disable()
}

func (a App) resolved() (App, error) {
	if a.ID == "" || strings.ContainsAny(a.ID, `/\`) {
		return a, fmt.Errorf("invalid app ID %q", a.ID)
	}
	if a.Name == "" {
		a.Name = a.ID
	}
	if a.Exec == "" {
		exe, err := os.Executable()
		if err != nil {
			return a, fmt.Errorf("finding this program's path: %w", err)
		}
		a.Exec = exe
	}
	return a, nil
}

// desktopEntry is the XDG autostart file's content. Exec quoting follows
// the Desktop Entry spec: each argument in double quotes with ", `, $ and
// \ escaped, and % doubled (field codes).
func desktopEntry(a App) string {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=" + text.OneLine(a.Name) + "\n")
	b.WriteString("Comment=Desktop notifications from your site\n")
	b.WriteString("Exec=" + execLine(append([]string{a.Exec}, a.Args...)) + "\n")
	b.WriteString("Icon=" + text.OneLine(a.ID) + "\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return b.String()
}

func execLine(args []string) string {
	q := make([]string, len(args))
	for i, s := range args {
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range s {
			switch r {
			case '"', '`', '$':
				// The spec escapes these with a backslash, and the string
				// value escapes that backslash again.
				b.WriteString(`\\`)
				b.WriteRune(r)
			case '\\':
				b.WriteString(`\\\\`) // four: both rules apply
			case '%':
				b.WriteString("%%")
			case '\n', '\r':
				b.WriteByte(' ')
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
		q[i] = b.String()
	}
	return strings.Join(q, " ")
}

// launchAgent is the macOS LaunchAgent plist.
func launchAgent(a App) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + xmlEscape(a.ID) + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, s := range append([]string{a.Exec}, a.Args...) {
		b.WriteString("\t\t<string>" + xmlEscape(s) + "</string>\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`)
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// windowsCommand is the Run value: the quoted path and arguments, as
// CreateProcess parses them.
func windowsCommand(a App) string {
	parts := []string{`"` + a.Exec + `"`}
	for _, s := range a.Args {
		if s == "" || strings.ContainsAny(s, " \t\"") {
			s = `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
