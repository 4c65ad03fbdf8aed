package tray

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

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
