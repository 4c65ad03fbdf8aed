package tray

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/autostart"
	"github.com/toasttray/toasttray/app/settings"
)

// Demo mode runs against the built-in server whatever the organisation
// enforces; otherwise the tray runs under the policy.
func TestTrayPolicyIgnoredInDemo(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, settings.EnforcedFileName), []byte(`{"site_url":"https://intranet.example.com"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(settings.PolicyDirEnv, dir)
	if p := trayPolicy(true); len(p.Enforced)+len(p.Origin) != 0 {
		t.Fatalf("demo mode under a policy: %+v", p)
	}
	if p := trayPolicy(false); len(p.Enforced) != 1 {
		t.Fatalf("policy not read: %+v", p)
	}
}

// An enforced start_at_login is applied to the user's login entry at
// start: created when true, removed when false; nothing is touched when
// it is not enforced, nor beside a machine-wide entry.
func TestApplyLoginPolicy(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("the XDG entry stands for all")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	entry := autostart.Tray("org.toasttray.Test")
	entry.Exec = "/usr/bin/toasttray"
	for _, tc := range []struct {
		name                  string
		enforced              string // enforced.json; "" = none
		before, machine, want bool
	}{
		{name: "enforced on, no entry", enforced: `{"start_at_login": true}`, want: true},
		{name: "enforced off, an entry", enforced: `{"start_at_login": false}`, before: true},
		{name: "not enforced, an entry", enforced: `{"sound_on_error": false}`, before: true, want: true},
		{name: "not enforced, none", enforced: `{"sound_on_error": false}`},
		{name: "no policy, an entry", before: true, want: true},
		{name: "enforced on, machine-wide", enforced: `{"start_at_login": true}`, machine: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home, system, pol := t.TempDir(), t.TempDir(), t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", home)
			t.Setenv("XDG_CONFIG_DIRS", system)
			t.Setenv(settings.PolicyDirEnv, pol)
			if tc.enforced != "" {
				if err := os.WriteFile(filepath.Join(pol, settings.EnforcedFileName), []byte(tc.enforced), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.machine {
				if err := os.MkdirAll(filepath.Join(system, "autostart"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(system, "autostart", entry.ID+".desktop"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.before {
				if err := entry.Enable(); err != nil {
					t.Fatal(err)
				}
			}
			applyLoginPolicy(settings.LoadPolicy(), entry, log)
			_, err := os.Stat(filepath.Join(home, "autostart", entry.ID+".desktop"))
			if got := err == nil; got != tc.want {
				t.Errorf("user entry there: %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}

// At start the user's entry written before autostart.Flag (this program,
// no arguments) is rewritten with it, logged once; the current entry,
// another program's, one turned off with Hidden=true, and none at all are
// left as they are.
func TestUpdateLoginEntry(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("the XDG entry stands for all")
	}
	entry := autostart.Tray("org.toasttray.Test")
	entry.Exec = "/usr/bin/toasttray"
	old := autostart.App{ID: entry.ID, Name: entry.Name, Exec: entry.Exec}
	other := old
	other.Exec = "/opt/other/toasttray"
	for _, tc := range []struct {
		name    string
		before  autostart.App // written with Enable; none when ID is ""
		hidden  bool          // Hidden=true appended
		machine bool          // an old machine-wide entry too
		updated bool
	}{
		{name: "old entry", before: old, updated: true},
		{name: "old entry beside a machine-wide one", before: old, machine: true, updated: true},
		{name: "current entry", before: entry},
		{name: "another program's", before: other},
		{name: "old entry turned off", before: old, hidden: true},
		{name: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", home)
			system := t.TempDir()
			t.Setenv("XDG_CONFIG_DIRS", system)
			machine := filepath.Join(system, "autostart", entry.ID+".desktop")
			machineOld := "[Desktop Entry]\nType=Application\nExec=/usr/bin/toasttray\n"
			if tc.machine {
				if err := os.MkdirAll(filepath.Dir(machine), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(machine, []byte(machineOld), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(home, "autostart", entry.ID+".desktop")
			var before []byte
			stamp := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
			if tc.before.ID != "" {
				if err := tc.before.Enable(); err != nil {
					t.Fatal(err)
				}
				if tc.hidden {
					f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := f.WriteString("Hidden=true\n"); err != nil {
						t.Fatal(err)
					}
					if err := f.Close(); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Chtimes(path, stamp, stamp); err != nil {
					t.Fatal(err)
				}
				var err error
				if before, err = os.ReadFile(path); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			updateLoginEntry(entry, slog.New(slog.NewTextHandler(&logs, nil)))

			after, err := os.ReadFile(path)
			if tc.before.ID == "" {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("entry created: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.machine {
				if got, err := os.ReadFile(machine); string(got) != machineOld {
					t.Errorf("machine-wide entry touched: %q, %v", got, err)
				}
			}
			want := 0
			if tc.updated {
				want = 1
			}
			if n := strings.Count(logs.String(), "login entry updated"); n != want {
				t.Errorf("logged %d times:\n%s", n, logs.String())
			}
			if !tc.updated {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(after, before) || !fi.ModTime().Equal(stamp) {
					t.Errorf("touched (mtime %v):\n%s", fi.ModTime(), after)
				}
				return
			}
			if want := `Exec="/usr/bin/toasttray" "--autostart"` + "\n"; !strings.Contains(string(after), want) {
				t.Errorf("not updated:\n%s", after)
			}
		})
	}
}
