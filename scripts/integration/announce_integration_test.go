//go:build integration

package integration_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/scripts/testdesk/desk"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// appID is FyneApp.toml's ID: the real app's keyring service.
const appID = "org.toasttray.ToastTray"

// startTray builds and starts the real toasttray with its settings and
// keyring entry for srv and password, in a config folder of its own, and
// returns its tray item. It is stopped when the test ends.
func startTray(t *testing.T, conn *dbus.Conn, srv *wstest.Server, password string) desk.Item {
	t.Helper()
	ctx := testContext(t, 3*time.Minute)
	dir := t.TempDir()
	bin := filepath.Join(dir, "toasttray")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/toasttray/toasttray").CombinedOutput(); err != nil {
		t.Fatalf("build toasttray: %v\n%s", err, out)
	}
	set := settings.Default()
	set.SiteURL, set.WSURL, set.Username = srv.URL, srv.WSURL, "demo"
	keys := creds.Store{Service: appID}
	if err := keys.SaveAll(settings.Store{Path: filepath.Join(dir, settings.FileName)}, set,
		wsclient.Credentials{Username: "demo", Password: password}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Delete(set.SiteURL, set.Username) })
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "TOASTTRAY_CONFIG_DIR="+dir)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	wellKnown := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", cmd.Process.Pid)
	it, err := desk.WaitItem(ctx, conn, func(it desk.Item) bool {
		var owner string
		err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, wellKnown).Store(&owner)
		return err == nil && owner == it.Service
	})
	if err != nil {
		t.Fatalf("%v; toasttray said:\n%s", err, out)
	}
	return it
}

// A wrong password in the keyring: the real app says "Signed out" once,
// with the reason in a sentence and a Settings button, and its menu gives
// the same sentence.
func TestIntegrationAnnounceSignedOut(t *testing.T) {
	conn := sessionBus(t)
	srv := wstest.NewServer(wstest.Options{})
	t.Cleanup(srv.Close)
	it := startTray(t, conn, srv, "not-the-password")
	ctx := testContext(t, time.Minute)
	title := "Signed out of " + strings.TrimPrefix(srv.URL, "http://")
	n, err := desk.WaitNotification(ctx, conn, func(n desk.Notification) bool { return n.Summary == title })
	if err != nil {
		t.Fatal(err)
	}
	if want := "The site did not accept the username and password. Click to open Settings and sign in again."; n.Body != want {
		t.Errorf("body %q, want %q", n.Body, want)
	}
	if want := []string{"default", "Settings"}; !slices.Equal(n.Actions, want) || n.Urgency != desk.UrgencyCritical {
		t.Errorf("actions %q urgency %d", n.Actions, n.Urgency)
	}
	m, err := desk.WaitMenu(ctx, conn, it, func(m desk.MenuItem) bool {
		return slices.Contains(m.Labels(), "Signed out — open Settings")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.Labels(), "The site did not accept the username and password.") {
		t.Errorf("menu %q", m.Labels())
	}
	// Reconnect now tries again: a new attempt, a new (single) notice.
	if err := desk.ClickLabel(ctx, conn, it, "Reconnect now"); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.WaitNotification(ctx, conn, func(x desk.Notification) bool { return x.Summary == title && x.ID > n.ID }); err != nil {
		t.Fatal(err)
	}
	all, err := desk.Notifications(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, x := range all {
		if x.Summary == title {
			count++
		}
	}
	if count != 2 {
		t.Errorf("%d sign-out notices for two attempts, want 2", count)
	}
}

// The site goes away for more than 30 s: one "Offline" notice, the
// offline icon in the tray; Reconnect now once it is back: "Back online".
func TestIntegrationAnnounceOffline(t *testing.T) {
	conn := sessionBus(t)
	srv := wstest.NewServer(wstest.Options{})
	t.Cleanup(srv.Close)
	it := startTray(t, conn, srv, "demo")
	ctx := testContext(t, 2*time.Minute)
	if _, err := desk.WaitMenu(ctx, conn, it, func(m desk.MenuItem) bool {
		return len(m.Labels()) > 0 && strings.HasPrefix(m.Labels()[0], "Connected to ")
	}); err != nil {
		t.Fatal(err)
	}
	srv.SetAccepting(false)
	srv.ResetAll()
	down := time.Now()
	n, err := desk.WaitNotification(ctx, conn, func(n desk.Notification) bool { return n.Summary == "Offline" })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("offline notice %v after the site went away", time.Since(down).Round(time.Second))
	if !strings.HasPrefix(n.Body, "No connection to ") || !slices.Equal(n.Actions, []string{"default", "Settings"}) {
		t.Errorf("offline notice %q %q", n.Body, n.Actions)
	}
	if _, err := desk.WaitMenu(ctx, conn, it, func(m desk.MenuItem) bool {
		return len(m.Labels()) > 0 && strings.HasPrefix(m.Labels()[0], "Offline since ")
	}); err != nil {
		t.Fatal(err)
	}
	srv.SetAccepting(true)
	if err := desk.ClickLabel(ctx, conn, it, "Reconnect now"); err != nil {
		t.Fatal(err)
	}
	back, err := desk.WaitNotification(ctx, conn, func(n desk.Notification) bool { return n.Summary == "Back online" })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Actions, []string{"default", "Notification history"}) {
		t.Errorf("back online actions %q", back.Actions)
	}
	all, _ := desk.Notifications(ctx, conn)
	offline := 0
	for _, x := range all {
		if x.Summary == "Offline" {
			offline++
		}
	}
	if offline != 1 {
		t.Errorf("%d offline notices, want 1", offline)
	}
}
