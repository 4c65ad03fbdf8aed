package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// The freedesktop notification service (Desktop Notifications spec 1.2).
const (
	fdoName  = "org.freedesktop.Notifications"
	fdoPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	fdoIface = "org.freedesktop.Notifications"
)

const (
	// expireTimeout is how long a popup stays, as beeep had it; servers
	// with a notification centre keep it (and its click action) there.
	expireTimeout = 5 * time.Second
	// callTimeout bounds one D-Bus call, as libdbus's default reply timeout.
	callTimeout = 25 * time.Second
	// maxClicks bounds the clickable notifications remembered: a server that
	// never sends NotificationClosed must not grow the map without end.
	maxClicks = 256
	// Action keys: "default" is a click on the notification itself, "open"
	// its Open button.
	actionDefault = "default"
	actionOpen    = "open"
)

// errClosed: Notify after Close.
var errClosed = errors.New("the notifier is closed")

// newPlatform shows notifications over D-Bus and acts on their clicks; if
// D-Bus fails, notify-send shows them (without click actions).
func newPlatform(opts BeeepOptions) (show func(Notification) error, closeFn func()) {
	f := &freedesktop{
		appName: opts.AppName, open: opts.OpenURL, onOpen: opts.OnOpen,
		log: opts.Logger, clicks: map[uint32]target{},
	}
	if f.open == nil {
		f.open = xdgOpen
	}
	return f.show, f.close
}

// freedesktop talks to org.freedesktop.Notifications over one private
// session-bus connection, opened at the first notification. One goroutine
// (listen) receives ActionInvoked and NotificationClosed for the
// notifications it showed; it ends when the connection closes: on close,
// or when the bus goes away (the next notification then reconnects).
type freedesktop struct {
	appName string
	open    func(url string) error
	onOpen  func(window string)
	log     *slog.Logger

	// mu is held across a Notify call, so that a click on the new
	// notification waits until its id is recorded.
	mu      sync.Mutex
	conn    *dbus.Conn // nil: not connected
	actions bool       // the server advertises the "actions" capability
	// clicks maps the ids of our notifications that have a click action
	// to what a click opens.
	clicks map[uint32]target
	closed bool
	wg     sync.WaitGroup // listen
}

func (f *freedesktop) show(n Notification) error {
	err := f.notifyDBus(n)
	if err == nil || errors.Is(err, errClosed) {
		return err
	}
	if serr := notifySend(f.appName, n); serr != nil {
		return fmt.Errorf("%w; fallback: %w", err, serr)
	}
	f.log.Debug("notification shown with notify-send, without click actions", "dbus_err", err)
	return nil
}

func (f *freedesktop) notifyDBus(n Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errClosed
	}
	conn, err := f.connectLocked()
	if err != nil {
		return err
	}
	clickable := n.URL != "" || f.onOpen != nil
	var actions []string
	if clickable {
		label := "Open"
		if n.URL == "" {
			label = windowLabel[n.window()]
		}
		actions = []string{actionDefault, label}
		if n.URL != "" && f.actions {
			actions = append(actions, actionOpen, "Open")
		}
	}
	urgency := byte(1)
	if n.Urgent {
		urgency = 2
	}
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(urgency)}
	if n.Sound {
		hints["sound-name"] = dbus.MakeVariant("bell")
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var id uint32
	err = conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoIface+".Notify", 0,
		f.appName, uint32(0), n.Icon, n.Title, n.Body, actions, hints,
		int32(expireTimeout/time.Millisecond)).Store(&id)
	if err != nil {
		if !errors.As(err, new(dbus.Error)) { // not the server's answer: the connection is broken
			f.dropLocked()
		}
		return fmt.Errorf("calling Notify over D-Bus: %w", err)
	}
	if clickable {
		if len(f.clicks) >= maxClicks {
			delete(f.clicks, slices.Min(keys(f.clicks))) // ids grow: the oldest
		}
		f.clicks[id] = target{url: n.URL, window: n.window()}
	}
	return nil
}

// target is what a click on a notification opens: its link, else an app
// window.
type target struct{ url, window string }

// windowLabel names the click action of a notification without a link.
var windowLabel = map[string]string{WindowHistory: "Notification history", WindowSettings: "Settings"}

func keys(m map[uint32]target) []uint32 {
	ks := make([]uint32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// connectLocked returns the connection, opening it (and starting listen)
// if needed.
func (f *freedesktop) connectLocked() (*dbus.Conn, error) {
	if f.conn != nil {
		return f.conn, nil
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("connecting to the session bus: %w", err)
	}
	// Subscribed before the first Notify, so no click is missed.
	if err := conn.AddMatchSignal(dbus.WithMatchSender(fdoName), dbus.WithMatchObjectPath(fdoPath),
		dbus.WithMatchInterface(fdoIface)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("subscribing to notification signals: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var caps []string
	if err := conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoIface+".GetCapabilities", 0).Store(&caps); err != nil {
		conn.Close()
		return nil, fmt.Errorf("asking the notification server's capabilities: %w", err)
	}
	ch := make(chan *dbus.Signal, 16)
	conn.Signal(ch)
	f.conn, f.actions = conn, slices.Contains(caps, "actions")
	f.wg.Add(1)
	go f.listen(conn, ch)
	return conn, nil
}

// dropLocked closes the connection; listen then ends, and the next
// notification reconnects. The ids belong to the old connection's server.
func (f *freedesktop) dropLocked() {
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
		clear(f.clicks)
	}
}

// listen handles the signals of conn until it closes (godbus then closes
// ch).
func (f *freedesktop) listen(conn *dbus.Conn, ch <-chan *dbus.Signal) {
	defer f.wg.Done()
	for sig := range ch {
		f.handle(sig)
	}
	f.mu.Lock()
	if f.conn == conn {
		f.conn = nil
		clear(f.clicks)
	}
	f.mu.Unlock()
}

func (f *freedesktop) handle(sig *dbus.Signal) {
	if sig.Path != fdoPath {
		return
	}
	switch sig.Name {
	case fdoIface + ".ActionInvoked":
		var id uint32
		var key string
		if dbus.Store(sig.Body, &id, &key) != nil || (key != actionDefault && key != actionOpen) {
			return
		}
		f.mu.Lock()
		to, ok := f.clicks[id]
		f.mu.Unlock()
		if ok {
			f.click(to)
		}
	case fdoIface + ".NotificationClosed":
		var id, reason uint32
		if dbus.Store(sig.Body, &id, &reason) == nil {
			f.mu.Lock()
			delete(f.clicks, id)
			f.mu.Unlock()
		}
	}
}

// click acts on a click: the link in the browser, else the window.
func (f *freedesktop) click(to target) {
	if to.url == "" {
		if f.onOpen != nil {
			f.onOpen(to.window)
		}
		return
	}
	if err := f.open(to.url); err != nil {
		// Not the URL: it is the site's business, and may carry a token.
		f.log.Warn("opening the notification's link", "err", err)
	}
}

// close ends the connection and waits for listen. Notify then fails.
func (f *freedesktop) close() {
	f.mu.Lock()
	f.closed = true
	f.dropLocked()
	f.mu.Unlock()
	f.wg.Wait()
}

// xdgOpen opens u in the desktop's browser. It does not wait: in its
// generic mode xdg-open runs the browser itself and lasts as long, so a
// goroutine reaps it when it exits.
func xdgOpen(u string) error {
	cmd := exec.Command("xdg-open", u)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting xdg-open: %w", err)
	}
	go cmd.Wait() //nolint:errcheck // its exit status says nothing useful once it has started
	return nil
}

// notifySend shows n with notify-send (libnotify-bin). Options come first
// and "--" ends them, so a title or body starting with "-" is text, not an
// option (as it was with beeep's fallback: "--help" printed help, "-w"
// waited).
func notifySend(appName string, n Notification) error {
	urgency := "normal"
	if n.Urgent {
		urgency = "critical"
	}
	args := []string{"-a", appName, "-u", urgency, "-t", strconv.Itoa(int(expireTimeout / time.Millisecond))}
	if n.Icon != "" {
		args = append(args, "-i", n.Icon)
	}
	args = append(args, "--", n.Title, n.Body)
	if err := exec.Command("notify-send", args...).Run(); err != nil {
		return fmt.Errorf("running notify-send: %w", err)
	}
	return nil
}
