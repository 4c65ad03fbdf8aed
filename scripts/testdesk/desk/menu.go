package desk

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Interfaces of a tray item and of its menu.
const (
	ItemIface = "org.kde.StatusNotifierItem"
	MenuIface = "com.canonical.dbusmenu"
)

// ItemInfo is what a tray item says about itself.
type ItemInfo struct {
	ID, Title, Status string
	Menu              dbus.ObjectPath
	IconSizes         []string    // "WxH" of each IconPixmap entry
	Icon              image.Image // the largest IconPixmap entry, nil if none
}

// ReadItem reads a tray item's properties.
func ReadItem(ctx context.Context, conn *dbus.Conn, it Item) (ItemInfo, error) {
	var props map[string]dbus.Variant
	err := conn.Object(it.Service, it.Path).CallWithContext(ctx,
		"org.freedesktop.DBus.Properties.GetAll", 0, ItemIface).Store(&props)
	if err != nil {
		return ItemInfo{}, fmt.Errorf("read tray item %s: %w", it, err)
	}
	var info ItemInfo
	str := func(k string) string { s, _ := props[k].Value().(string); return s }
	info.ID, info.Title, info.Status = str("Id"), str("Title"), str("Status")
	info.Menu, _ = props["Menu"].Value().(dbus.ObjectPath)
	var pix []struct {
		W, H int32
		Data []byte
	}
	if v, ok := props["IconPixmap"]; ok {
		if err := dbus.Store([]any{v.Value()}, &pix); err == nil {
			for _, p := range pix {
				info.IconSizes = append(info.IconSizes, fmt.Sprintf("%dx%d", p.W, p.H))
				if img := argbImage(p.W, p.H, p.Data); img != nil &&
					(info.Icon == nil || img.Bounds().Dx() > info.Icon.Bounds().Dx()) {
					info.Icon = img
				}
			}
		}
	}
	return info, nil
}

// argbImage decodes an IconPixmap entry: ARGB32 in network byte order.
func argbImage(w, h int32, data []byte) image.Image {
	if w <= 0 || h <= 0 || len(data) != int(w)*int(h)*4 {
		return nil
	}
	img := image.NewNRGBA(image.Rect(0, 0, int(w), int(h)))
	for i := 0; i < len(data); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = data[i+1], data[i+2], data[i+3], data[i]
	}
	return img
}

// MenuItem is one entry of a dbusmenu layout.
type MenuItem struct {
	ID          int32      `json:"id"`
	Label       string     `json:"label,omitempty"`
	Type        string     `json:"type,omitempty"` // "separator" or "" for standard
	Enabled     bool       `json:"enabled"`
	Visible     bool       `json:"visible"`
	ToggleType  string     `json:"toggle_type,omitempty"` // "checkmark", "radio" or ""
	ToggleState int32      `json:"toggle_state"`          // 1 on, 0 off, -1 unknown
	Children    []MenuItem `json:"children,omitempty"`
}

// Checked reports whether a toggle item is on.
func (m MenuItem) Checked() bool { return m.ToggleState == 1 }

// Find returns the first item, depth first, whose label is label once
// mnemonic underscores are removed.
func (m MenuItem) Find(label string) (MenuItem, bool) {
	if m.ID != 0 && CleanLabel(m.Label) == label {
		return m, true
	}
	for _, c := range m.Children {
		if f, ok := c.Find(label); ok {
			return f, true
		}
	}
	return MenuItem{}, false
}

// Labels lists the visible items' labels in order, separators as "---".
func (m MenuItem) Labels() []string {
	var out []string
	for _, c := range m.Children {
		if !c.Visible {
			continue
		}
		if c.Type == "separator" {
			out = append(out, "---")
			continue
		}
		out = append(out, CleanLabel(c.Label))
		out = append(out, c.Labels()...)
	}
	return out
}

// CleanLabel removes dbusmenu mnemonic markers ("_File" → "File", "__" → "_").
func CleanLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			if i+1 < len(s) && s[i+1] == '_' {
				b.WriteByte('_')
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// menuPath returns the item's menu object path.
func menuPath(ctx context.Context, conn *dbus.Conn, it Item) (dbus.ObjectPath, error) {
	info, err := ReadItem(ctx, conn, it)
	if err != nil {
		return "", err
	}
	if info.Menu == "" {
		return "", fmt.Errorf("tray item %s has no Menu property", it)
	}
	return info.Menu, nil
}

// ReadMenu reads the whole menu of a tray item with GetLayout.
func ReadMenu(ctx context.Context, conn *dbus.Conn, it Item) (MenuItem, error) {
	path, err := menuPath(ctx, conn, it)
	if err != nil {
		return MenuItem{}, err
	}
	var revision uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	err = conn.Object(it.Service, path).CallWithContext(ctx, MenuIface+".GetLayout", 0,
		int32(0), int32(-1), []string{}).Store(&revision, &layout)
	if err != nil {
		return MenuItem{}, fmt.Errorf("read the menu of %s: %w", it, err)
	}
	return convertLayout(layout.ID, layout.Props, layout.Children)
}

func convertLayout(id int32, props map[string]dbus.Variant, children []dbus.Variant) (MenuItem, error) {
	m := MenuItem{ID: id, Enabled: true, Visible: true, ToggleState: -1}
	if v, ok := props["label"].Value().(string); ok {
		m.Label = v
	}
	if v, ok := props["type"].Value().(string); ok {
		m.Type = v
	}
	if v, ok := props["enabled"].Value().(bool); ok {
		m.Enabled = v
	}
	if v, ok := props["visible"].Value().(bool); ok {
		m.Visible = v
	}
	if v, ok := props["toggle-type"].Value().(string); ok {
		m.ToggleType = v
	}
	if v, ok := props["toggle-state"].Value().(int32); ok {
		m.ToggleState = v
	}
	for _, c := range children {
		var child struct {
			ID       int32
			Props    map[string]dbus.Variant
			Children []dbus.Variant
		}
		if err := dbus.Store([]any{c.Value()}, &child); err != nil {
			return MenuItem{}, fmt.Errorf("decode menu item under %d: %w", id, err)
		}
		cm, err := convertLayout(child.ID, child.Props, child.Children)
		if err != nil {
			return MenuItem{}, err
		}
		m.Children = append(m.Children, cm)
	}
	return m, nil
}

// Click sends a "clicked" event to menu item id, as a tray host does when
// the user picks it.
func Click(ctx context.Context, conn *dbus.Conn, it Item, id int32) error {
	path, err := menuPath(ctx, conn, it)
	if err != nil {
		return err
	}
	err = conn.Object(it.Service, path).CallWithContext(ctx, MenuIface+".Event", 0,
		id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
	if err != nil {
		return fmt.Errorf("click menu item %d of %s: %w", id, it, err)
	}
	return nil
}

// ClickLabel clicks the menu item with the given label.
func ClickLabel(ctx context.Context, conn *dbus.Conn, it Item, label string) error {
	menu, err := ReadMenu(ctx, conn, it)
	if err != nil {
		return err
	}
	m, ok := menu.Find(label)
	if !ok {
		return fmt.Errorf("no menu item %q in %q", label, menu.Labels())
	}
	if !m.Enabled {
		return fmt.Errorf("menu item %q is disabled", label)
	}
	return Click(ctx, conn, it, m.ID)
}

// WaitMenu reads the item's menu until ok accepts it, re-reading whenever
// the item signals a menu change, and returns the accepted menu. Tray
// libraries may build the menu after they register, so a test that wants
// a given entry waits for it here.
func WaitMenu(ctx context.Context, conn *dbus.Conn, it Item, ok func(MenuItem) bool) (MenuItem, error) {
	opts := []dbus.MatchOption{dbus.WithMatchSender(it.Service), dbus.WithMatchInterface(MenuIface)}
	if err := conn.AddMatchSignalContext(ctx, opts...); err != nil {
		return MenuItem{}, fmt.Errorf("watch menu changes: %w", err)
	}
	defer conn.RemoveMatchSignal(opts...) //nolint:errcheck // best effort on the way out
	ch := make(chan *dbus.Signal, 64)
	conn.Signal(ch)
	defer conn.RemoveSignal(ch)
	for {
		m, err := ReadMenu(ctx, conn, it)
		if err != nil {
			return MenuItem{}, err
		}
		if ok(m) {
			return m, nil
		}
		if err := waitSignal(ctx, ch, func(s *dbus.Signal) bool {
			return s.Sender == it.Service || strings.HasPrefix(s.Name, MenuIface+".")
		}); err != nil {
			return m, fmt.Errorf("wait for the menu of %s (now %q): %w", it, m.Labels(), err)
		}
	}
}

// waitSignal returns when a signal that match accepts arrives.
func waitSignal(ctx context.Context, ch <-chan *dbus.Signal, match func(*dbus.Signal) bool) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s, ok := <-ch:
			if !ok {
				return errors.New("bus connection closed")
			}
			if match(s) {
				return nil
			}
		}
	}
}
