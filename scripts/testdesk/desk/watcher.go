package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
)

// D-Bus names of the StatusNotifierWatcher (KDE's spelling, which is what
// fyne.io/systray and most tray libraries call).
const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	WatcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	WatcherIface = "org.kde.StatusNotifierWatcher"
)

// Watcher implements org.kde.StatusNotifierWatcher. It claims a host is
// always registered, so items believe they are shown.
type Watcher struct {
	conn  *dbus.Conn
	props *prop.Properties
	out   io.Writer // JSON lines; may be nil

	mu    sync.Mutex
	items []string // "service/path", e.g. ":1.7/StatusNotifierItem"

	sigs chan *dbus.Signal
	done chan struct{}
	wg   sync.WaitGroup
}

// WatcherEvent is one line of the watcher's record.
type WatcherEvent struct {
	Event string    `json:"event"` // "registered", "unregistered", "host"
	Item  string    `json:"item"`
	Time  time.Time `json:"time"`
}

// ServeWatcher exports a watcher on conn and takes its well-known name.
// Events are written as JSON lines to out (nil for none). Close stops it.
func ServeWatcher(conn *dbus.Conn, out io.Writer) (*Watcher, error) {
	w := &Watcher{conn: conn, out: out, done: make(chan struct{}), sigs: make(chan *dbus.Signal, 64)}
	if err := conn.Export(w, WatcherPath, WatcherIface); err != nil {
		return nil, fmt.Errorf("export watcher: %w", err)
	}
	props, err := prop.Export(conn, WatcherPath, prop.Map{WatcherIface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		return nil, fmt.Errorf("export watcher properties: %w", err)
	}
	w.props = props
	node := &introspect.Node{Interfaces: []introspect.Interface{
		introspect.IntrospectData,
		prop.IntrospectData,
		{
			Name:       WatcherIface,
			Methods:    introspect.Methods(w),
			Properties: props.Introspection(WatcherIface),
			Signals: []introspect.Signal{
				{Name: "StatusNotifierItemRegistered", Args: []introspect.Arg{{Type: "s"}}},
				{Name: "StatusNotifierItemUnregistered", Args: []introspect.Arg{{Type: "s"}}},
				{Name: "StatusNotifierHostRegistered"},
			},
		},
	}}
	if err := conn.Export(introspect.NewIntrospectable(node), WatcherPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return nil, fmt.Errorf("export introspection: %w", err)
	}
	// Drop items whose owner leaves the bus.
	if err := conn.AddMatchSignal(
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
	); err != nil {
		return nil, fmt.Errorf("watch NameOwnerChanged: %w", err)
	}
	conn.Signal(w.sigs)
	w.wg.Add(1)
	go w.dropVanished()
	if err := requestName(conn, WatcherName); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops watching for items that leave the bus. It does not close conn.
func (w *Watcher) Close() {
	w.conn.RemoveSignal(w.sigs)
	close(w.done)
	w.wg.Wait()
}

func (w *Watcher) dropVanished() {
	defer w.wg.Done()
	for {
		select {
		case <-w.done:
			return
		case sig, ok := <-w.sigs:
			if !ok {
				return
			}
			if sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) != 3 {
				continue
			}
			name, _ := sig.Body[0].(string)
			newOwner, _ := sig.Body[2].(string)
			if newOwner == "" {
				w.removeService(name)
			}
		}
	}
}

func (w *Watcher) removeService(service string) {
	w.mu.Lock()
	var gone []string
	w.items = slices.DeleteFunc(w.items, func(it string) bool {
		if strings.HasPrefix(it, service+"/") {
			gone = append(gone, it)
			return true
		}
		return false
	})
	items := slices.Clone(w.items)
	w.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	w.props.SetMust(WatcherIface, "RegisteredStatusNotifierItems", items)
	for _, it := range gone {
		w.record("unregistered", it)
		_ = w.conn.Emit(WatcherPath, WatcherIface+".StatusNotifierItemUnregistered", it)
	}
}

func (w *Watcher) record(event, item string) {
	if w.out == nil {
		return
	}
	line, err := json.Marshal(WatcherEvent{Event: event, Item: item, Time: time.Now().UTC()})
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.out.Write(append(line, '\n'))
}

// RegisterStatusNotifierItem registers an item. service is either an
// object path on the caller's connection (what fyne.io/systray sends) or a
// bus name whose item lives at /StatusNotifierItem.
func (w *Watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	item := string(sender) + service
	if !strings.HasPrefix(service, "/") {
		item = service + "/StatusNotifierItem"
	}
	w.mu.Lock()
	dup := slices.Contains(w.items, item)
	if !dup {
		w.items = append(w.items, item)
	}
	items := slices.Clone(w.items)
	w.mu.Unlock()
	if dup {
		return nil
	}
	w.props.SetMust(WatcherIface, "RegisteredStatusNotifierItems", items)
	w.record("registered", item)
	if err := w.conn.Emit(WatcherPath, WatcherIface+".StatusNotifierItemRegistered", item); err != nil {
		return dbus.MakeFailedError(fmt.Errorf("emit StatusNotifierItemRegistered: %w", err))
	}
	return nil
}

// RegisterStatusNotifierHost accepts a host; one is always claimed anyway.
func (w *Watcher) RegisterStatusNotifierHost(sender dbus.Sender, service string) *dbus.Error {
	w.record("host", string(sender)+" "+service)
	if err := w.conn.Emit(WatcherPath, WatcherIface+".StatusNotifierHostRegistered"); err != nil {
		return dbus.MakeFailedError(fmt.Errorf("emit StatusNotifierHostRegistered: %w", err))
	}
	return nil
}

// Items returns the registered items.
func (w *Watcher) Items() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.items)
}

// Item is a registered tray item: a bus name and an object path.
type Item struct {
	Service string
	Path    dbus.ObjectPath
}

func (it Item) String() string { return it.Service + string(it.Path) }

// ParseItem splits a watcher entry "service/path".
func ParseItem(s string) (Item, error) {
	i := strings.Index(s, "/")
	if i <= 0 {
		return Item{}, fmt.Errorf("bad tray item %q: want service/path", s)
	}
	p := dbus.ObjectPath(s[i:])
	if !p.IsValid() {
		return Item{}, fmt.Errorf("bad tray item %q: invalid object path", s)
	}
	return Item{Service: s[:i], Path: p}, nil
}

// RegisteredItems asks the watcher on conn's bus for its items.
func RegisteredItems(ctx context.Context, conn *dbus.Conn) ([]Item, error) {
	var v dbus.Variant
	err := conn.Object(WatcherName, WatcherPath).CallWithContext(ctx,
		"org.freedesktop.DBus.Properties.Get", 0, WatcherIface, "RegisteredStatusNotifierItems").Store(&v)
	if err != nil {
		return nil, fmt.Errorf("ask the watcher for its items: %w", err)
	}
	names, ok := v.Value().([]string)
	if !ok {
		return nil, fmt.Errorf("watcher items: got %s, want as", v.Signature())
	}
	items := make([]Item, 0, len(names))
	for _, n := range names {
		it, err := ParseItem(n)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// WaitItem returns the first registered item for which match is true
// (match nil takes any), waiting for a registration if none is there yet.
func WaitItem(ctx context.Context, conn *dbus.Conn, match func(Item) bool) (Item, error) {
	if match == nil {
		match = func(Item) bool { return true }
	}
	opts := []dbus.MatchOption{
		dbus.WithMatchObjectPath(WatcherPath),
		dbus.WithMatchInterface(WatcherIface),
		dbus.WithMatchMember("StatusNotifierItemRegistered"),
	}
	if err := conn.AddMatchSignalContext(ctx, opts...); err != nil {
		return Item{}, fmt.Errorf("watch tray registrations: %w", err)
	}
	defer conn.RemoveMatchSignal(opts...) //nolint:errcheck // best effort on the way out
	ch := make(chan *dbus.Signal, 64)
	conn.Signal(ch)
	defer conn.RemoveSignal(ch)

	items, err := RegisteredItems(ctx, conn)
	if err != nil {
		return Item{}, err
	}
	for _, it := range items {
		if match(it) {
			return it, nil
		}
	}
	for {
		select {
		case <-ctx.Done():
			return Item{}, fmt.Errorf("wait for a tray item: %w", ctx.Err())
		case sig, ok := <-ch:
			if !ok {
				return Item{}, errors.New("wait for a tray item: bus connection closed")
			}
			if sig.Name != WatcherIface+".StatusNotifierItemRegistered" || len(sig.Body) != 1 {
				continue
			}
			s, _ := sig.Body[0].(string)
			it, err := ParseItem(s)
			if err != nil {
				return Item{}, err
			}
			if match(it) {
				return it, nil
			}
		}
	}
}

// WaitItemGone returns once the watcher no longer lists it.
func WaitItemGone(ctx context.Context, conn *dbus.Conn, it Item) error {
	opts := []dbus.MatchOption{
		dbus.WithMatchObjectPath(WatcherPath),
		dbus.WithMatchInterface(WatcherIface),
		dbus.WithMatchMember("StatusNotifierItemUnregistered"),
	}
	if err := conn.AddMatchSignalContext(ctx, opts...); err != nil {
		return fmt.Errorf("watch tray unregistrations: %w", err)
	}
	defer conn.RemoveMatchSignal(opts...) //nolint:errcheck // best effort on the way out
	ch := make(chan *dbus.Signal, 64)
	conn.Signal(ch)
	defer conn.RemoveSignal(ch)
	items, err := RegisteredItems(ctx, conn)
	if err != nil {
		return err
	}
	if !slices.Contains(items, it) {
		return nil
	}
	err = waitSignal(ctx, ch, func(s *dbus.Signal) bool {
		return s.Name == WatcherIface+".StatusNotifierItemUnregistered" && len(s.Body) == 1 && s.Body[0] == it.String()
	})
	if err != nil {
		return fmt.Errorf("wait for %s to leave the tray: %w", it, err)
	}
	return nil
}
