package notify

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// notifyCall is one org.freedesktop.Notifications.Notify call.
type notifyCall struct {
	ID                              uint32
	AppName, AppIcon, Summary, Body string
	Actions                         []string
	Urgency                         byte
}

// fakeServer owns org.freedesktop.Notifications on a private bus and
// records each Notify call, as a notification daemon would receive them.
type fakeServer struct {
	conn  *dbus.Conn
	caps  []string
	calls chan notifyCall

	mu     sync.Mutex
	nextID uint32
}

func (f *fakeServer) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	var urgency byte = 255
	if v, ok := hints["urgency"]; ok {
		urgency, _ = v.Value().(byte)
	}
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	f.mu.Unlock()
	f.calls <- notifyCall{id, appName, appIcon, summary, body, actions, urgency}
	return id, nil
}

func (f *fakeServer) GetCapabilities() ([]string, *dbus.Error) {
	return f.caps, nil
}

// emit sends one of the server's signals, as a daemon does when the user
// clicks or closes a notification.
func (f *fakeServer) emit(t *testing.T, member string, args ...any) {
	t.Helper()
	if err := f.conn.Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications."+member, args...); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeServer) next(t *testing.T) notifyCall {
	t.Helper()
	select {
	case c := <-f.calls:
		return c
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("no Notify call")
		return notifyCall{}
	}
}

func (f *fakeServer) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "toasttray", "1", "1.2", nil
}

// privateBus starts a dbus-daemon for this test and points the session
// bus address at it.
func privateBus(t *testing.T) string {
	t.Helper()
	addr, _ := startBus(t, filepath.Join(t.TempDir(), "bus"))
	return addr
}

// startBus starts a dbus-daemon listening on the socket sock and points
// the session bus address at it; stop kills it (else the test's end does).
func startBus(t *testing.T, sock string) (addr string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed")
	}
	cmd := exec.Command(bin, "--session", "--nofork", "--print-address=1", "--address=unix:path="+sock)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Skipf("dbus-daemon: %v", err)
	}
	stop = sync.OnceFunc(func() { cmd.Process.Kill(); cmd.Wait() })
	t.Cleanup(stop)
	addr, err = bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	addr = strings.TrimSpace(addr)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	return addr, stop
}

// startFakeServer starts a private bus with a notification server that
// advertises caps.
func startFakeServer(t *testing.T, caps ...string) *fakeServer {
	t.Helper()
	return serveNotifications(t, privateBus(t), caps...)
}

// serveNotifications runs a notification server that advertises caps on
// the bus at addr.
func serveNotifications(t *testing.T, addr string, caps ...string) *fakeServer {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	srv := &fakeServer{conn: conn, caps: caps, calls: make(chan notifyCall, 10)}
	if err := conn.Export(srv, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the name: %v %v", reply, err)
	}
	return srv
}

// The desktop Notifier over a real D-Bus: the app name, the escaped body,
// critical urgency for urgent popups and the icon file reach the server.
func TestBeeepOverDBus(t *testing.T) {
	srv := startFakeServer(t, "body", "body-markup")
	iconDir := t.TempDir()
	b := NewBeeep(BeeepOptions{AppName: "ToastTray", IconDir: iconDir})
	defer b.Close()
	b.escape = true

	next := func() notifyCall { t.Helper(); return srv.next(t) }
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
	// No link and no history callback: nothing to click.
	if len(c.Actions) != 0 {
		t.Fatalf("actions %q", c.Actions)
	}
}

// clickRecorder stands in for the browser and the app's windows.
type clickRecorder struct {
	opened  chan string
	windows chan string
}

func newClickRecorder() *clickRecorder {
	return &clickRecorder{opened: make(chan string, 10), windows: make(chan string, 10)}
}

func (r *clickRecorder) options(iconDir string) BeeepOptions {
	return BeeepOptions{
		AppName: "ToastTray", IconDir: iconDir,
		OpenURL: func(u string) error { r.opened <- u; return nil },
		OnOpen:  func(w string) { r.windows <- w },
	}
}

// Clicks on our notifications open their link or their window; clicks on
// other apps' notifications, on closed ones or on unknown actions do
// nothing. The server sends signals in order and the Notifier handles
// them in order, so once the last click has been seen, the earlier ones
// have been handled.
func TestClicksOverDBus(t *testing.T) {
	srv := startFakeServer(t, "body", "actions")
	rec := newClickRecorder()
	b := NewBeeep(rec.options(t.TempDir()))
	defer b.Close()

	const link = "https://www.example.com/orders/42/?a=1&b=2"
	if err := b.Notify(Notification{Title: "Shipped", Body: "b", URL: link}); err != nil {
		t.Fatal(err)
	}
	withURL := srv.next(t)
	if !slices.Equal(withURL.Actions, []string{"default", "Open", "open", "Open"}) {
		t.Fatalf("actions %q", withURL.Actions)
	}
	if err := b.Notify(Notification{Title: "3 more notifications", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	noURL := srv.next(t)
	if !slices.Equal(noURL.Actions, []string{"default", "Notification history"}) {
		t.Fatalf("actions %q", noURL.Actions)
	}
	if err := b.Notify(Notification{Title: "Signed out", Body: "b", Window: WindowSettings}); err != nil {
		t.Fatal(err)
	}
	settings := srv.next(t)
	if !slices.Equal(settings.Actions, []string{"default", "Settings"}) {
		t.Fatalf("actions %q", settings.Actions)
	}

	srv.emit(t, "ActionInvoked", withURL.ID+100, "default") // another app's
	srv.emit(t, "ActionInvoked", withURL.ID, "other")
	srv.emit(t, "ActionInvoked", withURL.ID, "default")
	srv.emit(t, "ActionInvoked", withURL.ID, "open")
	srv.emit(t, "NotificationClosed", withURL.ID, uint32(2))
	srv.emit(t, "ActionInvoked", withURL.ID, "default") // forgotten
	srv.emit(t, "ActionInvoked", settings.ID, "default")
	srv.emit(t, "ActionInvoked", noURL.ID, "default")
	for _, want := range []string{WindowSettings, WindowHistory} {
		select {
		case w := <-rec.windows:
			if w != want {
				t.Fatalf("opened %q, want %q", w, want)
			}
		case <-time.After(10 * time.Second): // hang guard
			t.Fatalf("%s was not opened", want)
		}
	}
	if len(rec.opened) != 2 || <-rec.opened != link || <-rec.opened != link {
		t.Fatalf("want the link opened twice (click and Open button)")
	}
	if len(rec.windows) != 0 {
		t.Fatal("a window opened more than once")
	}

	b.Close()
	if err := b.Notify(Notification{Title: "after"}); err == nil {
		t.Fatal("Notify after Close succeeded")
	}
}

// A server without the "actions" capability gets the default action only,
// and a Notifier without a history callback offers no click without a link.
func TestClickActionsWithoutCapability(t *testing.T) {
	srv := startFakeServer(t, "body")
	rec := newClickRecorder()
	opts := rec.options(t.TempDir())
	opts.OnOpen = nil
	b := NewBeeep(opts)
	defer b.Close()
	b.Notify(Notification{Title: "a", URL: "https://www.example.com/"})
	if c := srv.next(t); !slices.Equal(c.Actions, []string{"default", "Open"}) {
		t.Fatalf("actions %q", c.Actions)
	}
	b.Notify(Notification{Title: "b"})
	if c := srv.next(t); len(c.Actions) != 0 {
		t.Fatalf("actions %q", c.Actions)
	}
}

// fakeNotifySend puts a notify-send on PATH that records its arguments,
// one per line, in the returned file.
func fakeNotifySend(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argv + "\n"
	if err := os.WriteFile(filepath.Join(dir, "notify-send"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argv
}

// Without a session bus the Notifier falls back to notify-send, with the
// options first and "--" before the title and body, so text starting with
// "-" is not read as an option (issue 10).
func TestNotifySendFallback(t *testing.T) {
	argv := fakeNotifySend(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	iconDir := t.TempDir()
	b := NewBeeep(BeeepOptions{AppName: "ToastTray", IconDir: iconDir})
	defer b.Close()
	if err := b.Notify(Notification{Title: "--help", Body: "-w", Level: "error", Urgent: true}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	want := []string{"-a", "ToastTray", "-u", "critical", "-t", "5000", "-i", filepath.Join(iconDir, "error.png"), "--", "--help", "-w"}
	if !slices.Equal(got, want) {
		t.Fatalf("notify-send %q\nwant         %q", got, want)
	}
}

// When the bus goes away the Notifier drops its connection (and with it
// the ids it remembered) and falls back to notify-send; once a bus is back
// at the address, it reconnects and clicks work again.
func TestBusLostAndBack(t *testing.T) {
	argv := fakeNotifySend(t)
	sock := filepath.Join(t.TempDir(), "bus")
	addr, stop := startBus(t, sock)
	srv := serveNotifications(t, addr, "actions")
	rec := newClickRecorder()
	b := NewBeeep(rec.options(t.TempDir()))
	defer b.Close()
	const link = "https://www.example.com/"
	if err := b.Notify(Notification{Title: "one", URL: "https://old.example/"}); err != nil {
		t.Fatal(err)
	}
	srv.next(t)

	stop()
	if err := b.Notify(Notification{Title: "two"}); err != nil {
		t.Fatalf("no fallback: %v", err)
	}
	if data, err := os.ReadFile(argv); err != nil || !strings.HasSuffix(string(data), "--\ntwo\n\n") {
		t.Fatalf("notify-send got %q, %v", data, err)
	}

	addr, _ = startBus(t, sock)
	srv = serveNotifications(t, addr, "actions")
	if err := b.Notify(Notification{Title: "three", URL: link}); err != nil {
		t.Fatal(err)
	}
	c := srv.next(t) // the new server numbers from 1 again, like "one"
	srv.emit(t, "ActionInvoked", c.ID, "default")
	select {
	case u := <-rec.opened:
		if u != link {
			t.Fatalf("opened %q, want %q", u, link)
		}
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("the link was not opened")
	}
}

// The real notify-send reads a title and body starting with "-" as text
// when given "--": the server receives them.
func TestNotifySendDashes(t *testing.T) {
	if _, err := exec.LookPath("notify-send"); err != nil {
		t.Skip("notify-send not installed (libnotify-bin)")
	}
	srv := startFakeServer(t, "body")
	for _, c := range []Notification{{Title: "--help", Body: "-w"}, {Title: "-i/etc/passwd", Body: "--app-name=x"}} {
		if err := notifySend("ToastTray", c); err != nil {
			t.Fatal(err)
		}
		if got := srv.next(t); got.Summary != c.Title || got.Body != c.Body || got.AppName != "ToastTray" {
			t.Fatalf("got %+v, want %q %q", got, c.Title, c.Body)
		}
	}
}
