package tray

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

// A keyring that cannot be read must show up as the reason in the menu's
// target, not leave the user guessing why the client is signed out.
func TestBackendReportsUnreadableKeyring(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keyErr  error
		problem string // substring of Target.CredsProblem; "" = none
	}{
		{"keyring locked", errors.New("the keyring is locked"), "the keyring is locked"},
		{"no entry yet", keyring.ErrNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyring.MockInitWithError(tc.keyErr)
			t.Cleanup(keyring.MockInit)

			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			store := settings.Store{Path: filepath.Join(t.TempDir(), settings.FileName)}
			s := settings.Default()
			s.SiteURL, s.WSURL, s.Username = "http://127.0.0.1:1", "ws://127.0.0.1:1/prod", "alice"
			if err := store.Save(s); err != nil {
				t.Fatal(err)
			}
			svc := service.New(service.Options{Logger: log, Watchers: []wsclient.Watcher{}})
			t.Cleanup(svc.Stop)
			b := &backend{svc: svc, store: store, keys: creds.Store{Service: "org.toasttray.test"}, log: log}

			got := b.ReloadSettings()
			if !got.Configured || got.Site != "127.0.0.1:1" {
				t.Fatalf("target = %+v, want the saved site, configured", got)
			}
			if tc.problem == "" && got.CredsProblem != "" {
				t.Errorf("CredsProblem = %q, want none", got.CredsProblem)
			}
			if tc.problem != "" && !strings.Contains(got.CredsProblem, tc.problem) {
				t.Errorf("CredsProblem = %q, want it to contain %q", got.CredsProblem, tc.problem)
			}
		})
	}
}
