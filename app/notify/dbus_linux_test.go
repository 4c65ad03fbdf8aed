package notify

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// notifyCall is one org.freedesktop.Notifications.Notify call.
type notifyCall struct {
	AppName, AppIcon, Summary, Body string
	Urgency                         byte
}

// fakeServer owns org.freedesktop.Notifications on a private bus and
// records each Notify call, as a notification daemon would receive them.
type fakeServer struct{ calls chan notifyCall }

func (f *fakeServer) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	var urgency byte = 255
	if v, ok := hints["urgency"]; ok {
		urgency, _ = v.Value().(byte)
	}
	f.calls <- notifyCall{appName, appIcon, summary, body, urgency}
	return 1, nil
}

func (f *fakeServer) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body", "body-markup"}, nil
}

func (f *fakeServer) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "toasttray", "1", "1.2", nil
}

// privateBus starts a dbus-daemon for this test and points the session
// bus address at it.
func privateBus(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed")
	}
	sock := filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command(bin, "--session", "--nofork", "--print-address=1", "--address=unix:path="+sock)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Skipf("dbus-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	addr = strings.TrimSpace(addr)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	return addr
}

// The beeep Notifier over a real D-Bus: the app name, the escaped body,
// critical urgency for urgent popups and the icon file reach the server.
func TestBeeepOverDBus(t *testing.T) {
	addr := privateBus(t)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv := &fakeServer{calls: make(chan notifyCall, 10)}
	if err := conn.Export(srv, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the name: %v %v", reply, err)
	}
	iconDir := t.TempDir()
	b := NewBeeep(BeeepOptions{AppName: "ToastTray", IconDir: iconDir})
	b.escape = true

	next := func() notifyCall {
		t.Helper()
		select {
		case c := <-srv.calls:
			return c
		case <-time.After(10 * time.Second): // hang guard
			t.Fatal("no Notify call")
			return notifyCall{}
		}
	}
	if err := b.Notify(Notification{Title: "Saved", Body: `<a href="x">a</a> & b`, Level: "success"}); err != nil {
		t.Fatal(err)
	}
	c := next()
	if c.AppName != "ToastTray" || c.Summary != "Saved" || c.Body != `&lt;a href="x"&gt;a&lt;/a&gt; &amp; b` || c.Urgency != 1 {
		t.Fatalf("%+v", c)
	}
	if c.AppIcon != filepath.Join(iconDir, "success.png") {
		t.Fatalf("icon %q", c.AppIcon)
	}
	if png, _ := os.ReadFile(c.AppIcon); !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatal("icon is not a PNG")
	}
	b.Notify(Notification{Title: "Sync failed", Body: "x", Level: "error", Urgent: true, Sound: true})
	if c := next(); c.Urgency != 2 || c.Summary != "Sync failed" {
		t.Fatalf("urgent: %+v", c)
	}
}
