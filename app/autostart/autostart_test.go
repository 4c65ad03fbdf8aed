package autostart

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

var app = App{ID: "org.toasttray.ToastTray", Name: "ToastTray", Exec: "/opt/Toast Tray/toasttray"}

func TestXDGEnableDisable(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("XDG only")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	path := filepath.Join(dir, "autostart", "org.toasttray.ToastTray.desktop")
	if err := app.Enable(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[Desktop Entry]\n", "Type=Application\n", "Name=ToastTray\n", `Exec="/opt/Toast Tray/toasttray"` + "\n", "Terminal=false\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("missing %q in\n%s", want, data)
		}
	}
	if err := app.Set(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
	if err := app.Disable(); err != nil {
		t.Fatalf("second Disable: %v", err)
	}
}

func TestDefaultsToThisExecutable(t *testing.T) {
	a, err := App{ID: "x.y"}.resolved()
	exe, _ := os.Executable()
	if err != nil || a.Exec != exe || a.Name != "x.y" {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := (App{ID: "../evil"}).resolved(); err == nil {
		t.Fatal("path in ID accepted")
	}
}

func TestExecLineQuoting(t *testing.T) {
	got := execLine([]string{`/a b/t"x`, "100%", "$HOME", `c:\d`})
	want := `"/a b/t\\"x" "100%%" "\\$HOME" "c:\\\\d"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestLaunchAgentIsValidPlist(t *testing.T) {
	a := app
	a.Args = []string{"a<b&c"}
	var doc struct {
		Dict struct {
			Keys    []string `xml:"key"`
			Strings []string `xml:"string"`
			Array   []string `xml:"array>string"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(launchAgent(a)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Dict.Strings[0] != a.ID || len(doc.Dict.Array) != 2 || doc.Dict.Array[1] != "a<b&c" || doc.Dict.Array[0] != a.Exec {
		t.Fatalf("%+v", doc)
	}
}

func TestWindowsCommand(t *testing.T) {
	a := App{Exec: `C:\Program Files\ToastTray\toasttray.exe`, Args: []string{"-x", "a b"}}
	if got := windowsCommand(a); got != `"C:\Program Files\ToastTray\toasttray.exe" -x "a b"` {
		t.Fatal(got)
	}
}

// Tray's entry passes Flag, in the .desktop file as everywhere.
func TestTrayEntryPassesFlag(t *testing.T) {
	a := Tray("org.toasttray.ToastTray")
	a.Exec = "/usr/bin/toasttray"
	if got := desktopEntry(a); !strings.Contains(got, `Exec="/usr/bin/toasttray" "--autostart"`+"\n") {
		t.Errorf("desktop entry:\n%s", got)
	}
	a.Exec = `C:\ToastTray\toasttray.exe`
	if got := windowsCommand(a); got != `"C:\ToastTray\toasttray.exe" --autostart` {
		t.Errorf("Run value %s", got)
	}
}

// A file of the entry's name in an $XDG_CONFIG_DIRS autostart folder is a
// machine-wide entry; other names and the user's own folder are not.
func TestXDGMachineWide(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("XDG only")
	}
	home, first, second := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("XDG_CONFIG_DIRS", first+":relative:"+second)
	if err := app.Enable(); err != nil {
		t.Fatal(err)
	}
	write := func(dir, name string) string {
		p := filepath.Join(dir, "autostart", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(desktopEntry(app)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(first, "toasttray.desktop")
	if got, err := app.MachineWide(); got != "" || err != nil {
		t.Fatalf("only the user's entry and another name: %q, %v", got, err)
	}
	want := write(second, app.ID+".desktop")
	if got, err := app.MachineWide(); got != want || err != nil {
		t.Fatalf("got %q, %v; want %s", got, err, want)
	}
}

// What execLine and launchAgent write reads back as the same command;
// entries the user turned off read as none.
func TestCommandReadBack(t *testing.T) {
	cmd := []string{`/a b/t"x`, "100%", "$HOME", `c:\d`, "`x`", "--autostart"}
	if got := execArgs(execLine(cmd)); !slices.Equal(got, cmd) {
		t.Errorf("Exec read back as %q", got)
	}
	if got := execArgs(`/usr/bin/toasttray  --x\s"a b"`); !slices.Equal(got, []string{"/usr/bin/toasttray", "--x", "a b"}) {
		t.Errorf("unquoted Exec read as %q", got)
	}
	a := App{ID: app.ID, Name: app.Name, Exec: cmd[0], Args: cmd[1:]}
	if got := desktopCommand(desktopEntry(a)); !slices.Equal(got, cmd) {
		t.Errorf("desktop file read back as %q", got)
	}
	for _, off := range []string{"Hidden=true\n", "X-GNOME-Autostart-enabled=false\n"} {
		if got := desktopCommand(desktopEntry(a) + off); got != nil {
			t.Errorf("%q: read as %q", off, got)
		}
	}
	if got := desktopCommand("[Other]\nExec=x\n"); got != nil {
		t.Errorf("Exec of another group read as %q", got)
	}
	plist := launchAgent(a)
	if got, err := launchAgentCommand(plist); err != nil || !slices.Equal(got, cmd) {
		t.Errorf("LaunchAgent read back as %q, %v", got, err)
	}
	disabled := strings.Replace(plist, "<key>RunAtLoad</key>", "<key>Disabled</key>\n\t<true/>\n\t<key>RunAtLoad</key>", 1)
	if got, err := launchAgentCommand(disabled); err != nil || got != nil {
		t.Errorf("disabled LaunchAgent read as %q, %v", got, err)
	}
}
