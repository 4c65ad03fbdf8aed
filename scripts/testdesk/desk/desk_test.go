package desk

import (
	"image/color"
	"slices"
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestCleanLabel(t *testing.T) {
	for in, want := range map[string]string{
		"_Quit": "Quit", "Save __as": "Save _as", "Plain": "Plain", "": "", "a_": "a",
	} {
		if got := CleanLabel(in); got != want {
			t.Errorf("CleanLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseItem(t *testing.T) {
	it, err := ParseItem(":1.7/StatusNotifierItem")
	if err != nil || it.Service != ":1.7" || it.Path != "/StatusNotifierItem" {
		t.Fatalf("ParseItem = %+v, %v", it, err)
	}
	if it.String() != ":1.7/StatusNotifierItem" {
		t.Errorf("String() = %q", it.String())
	}
	for _, bad := range []string{"", "/StatusNotifierItem", "org.x", "org.x/bad//path"} {
		if _, err := ParseItem(bad); err == nil {
			t.Errorf("ParseItem(%q) accepted", bad)
		}
	}
}

func TestConvertLayoutLabelsFind(t *testing.T) {
	child := func(id int32, props map[string]dbus.Variant) dbus.Variant {
		// A struct inside a variant arrives from the bus as []any.
		return dbus.MakeVariant([]any{id, props, []dbus.Variant{}})
	}
	m, err := convertLayout(0, map[string]dbus.Variant{}, []dbus.Variant{
		child(1, map[string]dbus.Variant{"label": dbus.MakeVariant("Status: ok"), "enabled": dbus.MakeVariant(false)}),
		child(2, map[string]dbus.Variant{"label": dbus.MakeVariant("_Pause"), "toggle-type": dbus.MakeVariant("checkmark"), "toggle-state": dbus.MakeVariant(int32(1))}),
		child(3, map[string]dbus.Variant{"type": dbus.MakeVariant("separator")}),
		child(4, map[string]dbus.Variant{"label": dbus.MakeVariant("Hidden"), "visible": dbus.MakeVariant(false)}),
		child(5, map[string]dbus.Variant{"label": dbus.MakeVariant("Quit")}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Labels(), []string{"Status: ok", "Pause", "---", "Quit"}; !slices.Equal(got, want) {
		t.Errorf("Labels() = %q, want %q", got, want)
	}
	if s, ok := m.Find("Status: ok"); !ok || s.Enabled {
		t.Errorf("status entry %+v, want found and disabled", s)
	}
	if p, ok := m.Find("Pause"); !ok || p.ID != 2 || !p.Checked() || p.ToggleType != "checkmark" {
		t.Errorf("pause entry %+v, want id 2, a checked checkmark", p)
	}
	if q, ok := m.Find("Quit"); !ok || q.ID != 5 || !q.Enabled || q.ToggleState != -1 {
		t.Errorf("quit entry %+v, want id 5, enabled, no toggle", q)
	}
	if _, ok := m.Find("Nope"); ok {
		t.Error("Find found a missing label")
	}
}

func TestArgbImage(t *testing.T) {
	img := argbImage(2, 1, []byte{0xff, 10, 20, 30, 0x80, 40, 50, 60})
	if img == nil {
		t.Fatal("nil image")
	}
	if got := img.At(0, 0); got != (color.NRGBA{10, 20, 30, 0xff}) {
		t.Errorf("pixel 0 = %v", got)
	}
	if got := img.At(1, 0); got != (color.NRGBA{40, 50, 60, 0x80}) {
		t.Errorf("pixel 1 = %v", got)
	}
	if argbImage(2, 2, []byte{1, 2, 3}) != nil {
		t.Error("short data accepted")
	}
}

func TestHintValue(t *testing.T) {
	if got := hintValue(dbus.MakeVariant(byte(2))); got != byte(2) {
		t.Errorf("urgency hint = %#v", got)
	}
	img := dbus.MakeVariant([]any{int32(64), int32(32), int32(256), true, int32(8), int32(4), []byte{}})
	if got := hintValue(img); got != "image 64x32" {
		t.Errorf("image-data hint = %#v", got)
	}
}
