//go:build integration

package integration_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/scripts/testdesk/desk"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// The app's own notification path (service → gate → beeep → D-Bus) on the
// backend emulator: toasts pushed by the server reach the desktop's
// notification server with ToastTray's app name, the body escaped for
// markup, and the urgency of their level.
func TestIntegrationAppNotifications(t *testing.T) {
	conn := sessionBus(t)
	srv := wstest.NewServer(wstest.Options{})
	t.Cleanup(srv.Close)

	connected := make(chan struct{}, 1)
	notifier := notify.NewBeeep(notify.BeeepOptions{AppName: "ToastTray", IconDir: t.TempDir()})
	t.Cleanup(notifier.Close) // after svc.Stop
	svc := service.New(service.Options{
		Version:  "integration",
		Notifier: notifier,
		Watchers: []wsclient.Watcher{},
		OnStatus: func(st wsclient.Status) {
			if st.State == wsclient.StateConnected {
				select {
				case connected <- struct{}{}:
				default:
				}
			}
		},
	})
	t.Cleanup(svc.Stop)
	set := settings.Default()
	set.SiteURL, set.WSURL, set.Username = srv.URL, srv.WSURL, "demo"
	set.SoundOnError = true
	if err := svc.Restart(svc.RunFor(set, wsclient.Credentials{Username: "demo", Password: "demo"})); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-testContext(t, 20*time.Second).Done():
		t.Fatal("never connected to the emulator")
	}

	cases := []struct {
		level, body, wantBody string
		urgency               int
	}{
		{"info", "Alice & Bob joined", "Alice &amp; Bob joined", desk.UrgencyNormal},
		{"error", "Disk <b>full</b>", "Disk &lt;b&gt;full&lt;/b&gt;", desk.UrgencyCritical},
	}
	for _, c := range cases {
		title := fmt.Sprintf("%s toast %d", c.level, time.Now().UnixNano())
		if n := srv.Push("", map[string]any{"type": "toast", "level": c.level, "title": title, "message": c.body}); n != 1 {
			t.Fatalf("pushed to %d connections, want 1", n)
		}
		n, err := desk.WaitNotification(testContext(t, 10*time.Second), conn,
			func(n desk.Notification) bool { return n.Summary == title })
		if err != nil {
			t.Fatalf("%s toast: %v", c.level, err)
		}
		if n.AppName != "ToastTray" {
			t.Errorf("%s: app name %q, want ToastTray", c.level, n.AppName)
		}
		if n.Body != c.wantBody {
			t.Errorf("%s: body %q, want %q", c.level, n.Body, c.wantBody)
		}
		if n.Urgency != c.urgency {
			t.Errorf("%s: urgency %d, want %d", c.level, n.Urgency, c.urgency)
		}
	}
}

// The app's credential store on the real Secret Service: SaveAll writes the
// settings file and the keyring together, Load reads the secret back, and
// Delete removes it.
func TestIntegrationAppCredentials(t *testing.T) {
	requireDesktop(t)
	keys := creds.Store{Service: keyringService}
	store := settings.Store{Path: filepath.Join(t.TempDir(), settings.FileName)}
	set := settings.Default()
	set.SiteURL, set.WSURL, set.Username = "https://site.example.test", "wss://ws.example.test/prod", "alice"
	want := wsclient.Credentials{Username: "alice", Password: "correct horse ✓ battery"}

	if err := keys.SaveAll(store, set, want); err != nil {
		t.Fatalf("SaveAll: %v", err)
	}
	t.Cleanup(func() { _ = keys.Delete(set.SiteURL, set.Username) })
	got, err := keys.Load(set.SiteURL, set.Username)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Password != want.Password || got.Username != want.Username {
		t.Fatalf("Load returned other credentials than were saved (user %q)", got.Username)
	}
	saved, exists, err := store.Load()
	if err != nil || !exists || saved.SiteURL != set.SiteURL {
		t.Fatalf("settings after SaveAll: exists=%v err=%v site=%q", exists, err, saved.SiteURL)
	}
	if err := keys.Delete(set.SiteURL, set.Username); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := keys.Load(set.SiteURL, set.Username); !errors.Is(err, creds.ErrNotFound) {
		t.Fatalf("Load after Delete: err = %v, want ErrNotFound", err)
	}
}
