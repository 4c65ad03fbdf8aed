// Package desk provides test doubles of the desktop services ToastTray
// talks to over the D-Bus session bus, and clients to inspect them:
//
//   - a notification server owning org.freedesktop.Notifications that
//     records every Notify call and, on request (InvokeAction), clicks a
//     notification the way a user would;
//   - a StatusNotifierWatcher owning org.kde.StatusNotifierWatcher that
//     records registered tray items, plus helpers to read an item's
//     com.canonical.dbusmenu menu and click its entries.
//
// scripts/desktop-session starts both (through `testdesk serve`) on the
// private bus of every throwaway desktop; integration tests and the smoke
// script talk to them over that bus.
package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

// D-Bus names of the notification service and of this package's own
// inspection interface on the same object.
const (
	NotificationsName  = "org.freedesktop.Notifications"
	NotificationsPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	NotificationsIface = "org.freedesktop.Notifications"
	TestDeskIface      = "org.toasttray.TestDesk"
)

// Notification is one recorded Notify call.
type Notification struct {
	ID            uint32         `json:"id"`
	AppName       string         `json:"app_name"`
	ReplacesID    uint32         `json:"replaces_id"`
	AppIcon       string         `json:"app_icon"`
	Summary       string         `json:"summary"`
	Body          string         `json:"body"`
	Actions       []string       `json:"actions"`
	Hints         map[string]any `json:"hints"`
	Urgency       int            `json:"urgency"` // hint "urgency": 0 low, 1 normal (also when absent), 2 critical
	ExpireTimeout int32          `json:"expire_timeout"`
	Time          time.Time      `json:"time"`
}

// Urgency levels of the notification spec.
const (
	UrgencyLow      = 0
	UrgencyNormal   = 1
	UrgencyCritical = 2
)

// NotificationServer implements org.freedesktop.Notifications.
type NotificationServer struct {
	conn *dbus.Conn

	mu     sync.Mutex
	nextID uint32
	log    []Notification
	out    io.Writer // JSON lines; may be nil
}

// ServeNotifications exports a notification server on conn, takes the
// well-known name, and writes each notification as a JSON line to out
// (nil for none). It fails if another process owns the name.
func ServeNotifications(conn *dbus.Conn, out io.Writer) (*NotificationServer, error) {
	s := &NotificationServer{conn: conn, out: out}
	if err := conn.Export(s, NotificationsPath, NotificationsIface); err != nil {
		return nil, fmt.Errorf("export notification server: %w", err)
	}
	if err := conn.ExportMethodTable(map[string]any{
		"Notifications": s.notificationsJSON,
		"InvokeAction":  s.invokeAction,
	}, NotificationsPath, TestDeskIface); err != nil {
		return nil, fmt.Errorf("export %s: %w", TestDeskIface, err)
	}
	node := &introspect.Node{Interfaces: []introspect.Interface{
		introspect.IntrospectData,
		{Name: NotificationsIface, Methods: introspect.Methods(s)},
	}}
	if err := conn.Export(introspect.NewIntrospectable(node), NotificationsPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return nil, fmt.Errorf("export introspection: %w", err)
	}
	if err := requestName(conn, NotificationsName); err != nil {
		return nil, err
	}
	return s, nil
}

func requestName(conn *dbus.Conn, name string) error {
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil {
		return fmt.Errorf("request name %s: %w", name, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("request name %s: already owned by another process", name)
	}
	return nil
}

// Notify records the notification and returns its id.
func (s *NotificationServer) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, expireTimeout int32) (uint32, *dbus.Error) {
	n := Notification{
		AppName: appName, ReplacesID: replacesID, AppIcon: appIcon,
		Summary: summary, Body: body, Actions: actions,
		Hints: map[string]any{}, Urgency: UrgencyNormal,
		ExpireTimeout: expireTimeout, Time: time.Now().UTC(),
	}
	for k, v := range hints {
		n.Hints[k] = hintValue(v)
	}
	if u, ok := hints["urgency"]; ok {
		if b, ok := u.Value().(byte); ok {
			n.Urgency = int(b)
		}
	}
	s.mu.Lock()
	if replacesID != 0 {
		n.ID = replacesID
	} else {
		s.nextID++
		n.ID = s.nextID
	}
	s.log = append(s.log, n)
	line, err := json.Marshal(n)
	if err == nil && s.out != nil {
		_, err = s.out.Write(append(line, '\n'))
	}
	s.mu.Unlock()
	if err != nil {
		return 0, dbus.MakeFailedError(fmt.Errorf("record notification: %w", err))
	}
	if err := s.conn.Emit(NotificationsPath, TestDeskIface+".Notified", string(line)); err != nil {
		return 0, dbus.MakeFailedError(fmt.Errorf("emit Notified: %w", err))
	}
	return n.ID, nil
}

// hintValue turns a hint into something JSON can show: plain values as
// they are, image data as a short description.
func hintValue(v dbus.Variant) any {
	switch x := v.Value().(type) {
	case bool, byte, int16, uint16, int32, uint32, int64, uint64, float64, string:
		return x
	case []any:
		if len(x) == 7 { // image-data (iiibiiay)
			return fmt.Sprintf("image %vx%v", x[0], x[1])
		}
	}
	return v.String()
}

// GetCapabilities reports what this server supports.
func (s *NotificationServer) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body", "actions", "icon-static", "persistence", "sound"}, nil
}

// GetServerInformation names this server.
func (s *NotificationServer) GetServerInformation() (name, vendor, version, specVersion string, err *dbus.Error) {
	return "testdesk", "ToastTray", "1", "1.2", nil
}

// CloseNotification closes a notification and emits NotificationClosed
// with reason 3 (closed by a call to CloseNotification).
func (s *NotificationServer) CloseNotification(id uint32) *dbus.Error {
	if err := s.conn.Emit(NotificationsPath, NotificationsIface+".NotificationClosed", id, uint32(3)); err != nil {
		return dbus.MakeFailedError(fmt.Errorf("emit NotificationClosed: %w", err))
	}
	return nil
}

// invokeAction does what a real server does when the user clicks action
// key of notification id ("default": the notification itself): it emits
// ActionInvoked, then NotificationClosed with reason 2 (dismissed by the
// user). It refuses an id it never showed and an action not offered.
func (s *NotificationServer) invokeAction(id uint32, key string) *dbus.Error {
	var actions []string
	found := false
	s.mu.Lock()
	for i := len(s.log) - 1; i >= 0 && !found; i-- {
		if s.log[i].ID == id {
			actions, found = s.log[i].Actions, true
		}
	}
	s.mu.Unlock()
	if !found {
		return dbus.MakeFailedError(fmt.Errorf("invoke action: no notification %d", id))
	}
	offered := false
	for i := 0; i+1 < len(actions); i += 2 { // key, label, key, label…
		offered = offered || actions[i] == key
	}
	if !offered {
		return dbus.MakeFailedError(fmt.Errorf("invoke action: notification %d offers no action %q (it has %q)", id, key, actions))
	}
	if err := s.conn.Emit(NotificationsPath, NotificationsIface+".ActionInvoked", id, key); err != nil {
		return dbus.MakeFailedError(fmt.Errorf("emit ActionInvoked: %w", err))
	}
	if err := s.conn.Emit(NotificationsPath, NotificationsIface+".NotificationClosed", id, uint32(2)); err != nil {
		return dbus.MakeFailedError(fmt.Errorf("emit NotificationClosed: %w", err))
	}
	return nil
}

// InvokeAction asks the notification server on conn's bus to click action
// key of notification id, as a user would ("default": the notification
// itself).
func InvokeAction(ctx context.Context, conn *dbus.Conn, id uint32, key string) error {
	err := conn.Object(NotificationsName, NotificationsPath).CallWithContext(ctx, TestDeskIface+".InvokeAction", 0, id, key).Err
	if err != nil {
		return fmt.Errorf("ask the test notification server to invoke %q on %d: %w", key, id, err)
	}
	return nil
}

// Notifications returns what has been recorded so far.
func (s *NotificationServer) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.log...)
}

func (s *NotificationServer) notificationsJSON() (string, *dbus.Error) {
	b, err := json.Marshal(s.Notifications())
	if err != nil {
		return "", dbus.MakeFailedError(err)
	}
	return string(b), nil
}

// Notifications asks the notification server on conn's bus for every
// notification recorded so far.
func Notifications(ctx context.Context, conn *dbus.Conn) ([]Notification, error) {
	var s string
	err := conn.Object(NotificationsName, NotificationsPath).CallWithContext(ctx, TestDeskIface+".Notifications", 0).Store(&s)
	if err != nil {
		return nil, fmt.Errorf("ask the test notification server: %w", err)
	}
	var ns []Notification
	if err := json.Unmarshal([]byte(s), &ns); err != nil {
		return nil, fmt.Errorf("decode notifications: %w", err)
	}
	return ns, nil
}

// WaitNotification returns the first recorded notification, past or
// future, for which match is true, or ctx's error.
func WaitNotification(ctx context.Context, conn *dbus.Conn, match func(Notification) bool) (Notification, error) {
	opts := []dbus.MatchOption{
		dbus.WithMatchObjectPath(NotificationsPath),
		dbus.WithMatchInterface(TestDeskIface),
		dbus.WithMatchMember("Notified"),
	}
	if err := conn.AddMatchSignalContext(ctx, opts...); err != nil {
		return Notification{}, fmt.Errorf("watch notifications: %w", err)
	}
	defer conn.RemoveMatchSignal(opts...) //nolint:errcheck // best effort on the way out
	ch := make(chan *dbus.Signal, 64)
	conn.Signal(ch)
	defer conn.RemoveSignal(ch)

	// Subscribed first, then looked at the past: nothing falls in between.
	past, err := Notifications(ctx, conn)
	if err != nil {
		return Notification{}, err
	}
	for _, n := range past {
		if match(n) {
			return n, nil
		}
	}
	for {
		select {
		case <-ctx.Done():
			return Notification{}, fmt.Errorf("wait for notification: %w", ctx.Err())
		case sig, ok := <-ch:
			if !ok {
				return Notification{}, errors.New("wait for notification: bus connection closed")
			}
			if sig.Name != TestDeskIface+".Notified" || len(sig.Body) != 1 {
				continue
			}
			s, _ := sig.Body[0].(string)
			var n Notification
			if err := json.Unmarshal([]byte(s), &n); err != nil {
				return Notification{}, fmt.Errorf("decode Notified signal: %w", err)
			}
			if match(n) {
				return n, nil
			}
		}
	}
}
