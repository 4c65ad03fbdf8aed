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
	"encoding/xml"
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

// Current returns the command (program and arguments) of the user's own
// entry, nil when there is none or when the user turned it off (an XDG
// file with Hidden=true or X-GNOME-Autostart-enabled=false, a LaunchAgent
// with Disabled): then there is no entry to keep up to date.
func (a App) Current() ([]string, error) {
	cmd, err := current(a)
	if err != nil {
		return nil, fmt.Errorf("reading the start at login entry: %w", err)
	}
	return cmd, nil
}

// Command is what Enable's entry starts: the program and its arguments.
func (a App) Command() ([]string, error) {
	a, err := a.resolved()
	if err != nil {
		return nil, err
	}
	return append([]string{a.Exec}, a.Args...), nil
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

// desktopCommand is the Exec of a .desktop file's [Desktop Entry],
// unquoted (the inverse of execLine), or nil when the file has none or
// turns the entry off (Hidden=true, GNOME's X-GNOME-Autostart-enabled=false).
func desktopCommand(data string) []string {
	var cmd []string
	group, off := "", false
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			group = line
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || group != "[Desktop Entry]" {
			continue
		}
		switch value = strings.TrimSpace(value); strings.TrimSpace(key) {
		case "Exec":
			cmd = execArgs(value)
		case "Hidden":
			off = off || value == "true"
		case "X-GNOME-Autostart-enabled":
			off = off || value == "false"
		}
	}
	if off {
		return nil
	}
	return cmd
}

// execArgs splits an Exec value: string escapes first, then arguments
// separated by blanks, double quotes with ", `, $ and \ escaped inside, and
// %% for %. Field codes (%f…) are left as they are: ToastTray writes none.
func execArgs(s string) []string {
	s = strings.NewReplacer(`\s`, " ", `\n`, "\n", `\t`, "\t", `\r`, "\r", `\\`, `\`).Replace(s)
	var args []string
	var b strings.Builder
	in, quoted := false, false // in: an argument started
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s) && strings.IndexByte("\"`$\\", s[i+1]) >= 0:
			i++
			b.WriteByte(s[i])
		case c == '"':
			quoted, in = !quoted, true
		case !quoted && (c == ' ' || c == '\t' || c == '\n'):
			if in {
				args = append(args, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		args = append(args, b.String())
	}
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "%%", "%")
	}
	return args
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

// launchAgentCommand is a LaunchAgent plist's ProgramArguments, or nil
// when it has none or is Disabled.
func launchAgentCommand(data string) ([]string, error) {
	var doc struct {
		Dict struct {
			Items []struct { // key, value, key, value…
				XMLName xml.Name
				Text    string   `xml:",chardata"`
				Strings []string `xml:"string"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(data), &doc); err != nil {
		return nil, fmt.Errorf("reading the LaunchAgent: %w", err)
	}
	var cmd []string
	items := doc.Dict.Items
	for i := 0; i+1 < len(items); i++ {
		if items[i].XMLName.Local != "key" {
			continue
		}
		switch v := items[i+1]; items[i].Text {
		case "ProgramArguments":
			cmd = v.Strings
		case "Disabled":
			if v.XMLName.Local == "true" {
				return nil, nil
			}
		}
	}
	return cmd, nil
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
