//go:build linux

package tray

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// privateBus starts a dbus-daemon for the test and points
// DBUS_SESSION_BUS_ADDRESS at it. Skips when dbus-daemon is not installed.
func privateBus(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed")
	}
	cmd := exec.Command(bin, "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the bus address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(addr))
}

var systrayTested bool

type layout = struct {
	V0 int32
	V1 map[string]dbus.Variant
	V2 []dbus.Variant
}

// labels flattens a dbusmenu layout into "label" → item id, and notes
// which items are visible and enabled.
func walk(l layout, depth int, out *[]string, ids map[string]int32) {
	label, _ := l.V1["label"].Value().(string)
	if label != "" || depth > 0 {
		flags := ""
		if v, ok := l.V1["enabled"].Value().(bool); ok && !v {
			flags += " [disabled]"
		}
		if v, ok := l.V1["visible"].Value().(bool); ok && !v {
			flags += " [hidden]"
		}
		if v, ok := l.V1["toggle-state"].Value().(int32); ok && v == 1 {
			flags += " [checked]"
		}
		if t, _ := l.V1["type"].Value().(string); t == "separator" {
			label = "---"
		}
		*out = append(*out, strings.Repeat("  ", depth-1)+label+flags)
		ids[label] = l.V0
	}
	for _, c := range l.V2 {
		if cl, ok := c.Value().(layout); ok {
			walk(cl, depth+1, out, ids)
		} else if vs, ok := c.Value().([]any); ok && len(vs) == 3 {
			// godbus may hand the struct back as []interface{}
			var sub layout
			if err := dbus.Store(vs, &sub.V0, &sub.V1, &sub.V2); err == nil {
				walk(sub, depth+1, out, ids)
			}
		}
	}
}

// TestSysTrayOverDBus exports the real menu on a private session bus,
// reads it back as a tray host would (dbusmenu GetLayout), and clicks an
// item through the dbusmenu Event method.
func TestSysTrayOverDBus(t *testing.T) {
	// fyne.io/systray v1.12.2 (the latest) answers the first GetLayout and
	// starts a goroutine that bumps the menu revision 150 ms later under
	// another lock than the one GetLayout read it under: -race reports that
	// race inside the library whenever it sees both accesses (seen in CI
	// on a loaded machine). `make unit` runs this test once more without
	// -race, so it still runs in every build.
	if raceDetector {
		t.Skip("fyne.io/systray's first GetLayout races with its own refresh (library bug); run without -race: make unit does")
	}
	// fyne.io/systray keeps its menu in package state and runs once per
	// process (go test -count=2 would see the first run's items).
	if systrayTested {
		t.Skip("fyne.io/systray runs once per process")
	}
	systrayTested = true
	privateBus(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, end, err := startSysTray(log)
	if err != nil {
		t.Fatal(err)
	}
	defer end()

	now := time.Date(2026, 11, 26, 10, 42, 0, 0, time.Local)
	st.draw(Render(View{Configured: true, Site: "example.com", Channel: "ops",
		PauseUntil: now.Add(time.Hour)}, now))
	st.draw(Render(View{Configured: true, Site: "example.com", Channel: "ops", PauseErrors: true}, now)) // only changes are sent

	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	name := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", os.Getpid())
	menu := conn.Object(name, "/StatusNotifierItem/menu")
	var rev uint32
	var root layout
	// systray answers the first GetLayout one level deep (a workaround for
	// libdbusmenu-gtk); hosts ask again, and so does this test.
	if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	var lines []string
	ids := map[string]int32{}
	walk(root, 0, &lines, ids)
	got := strings.Join(lines, "\n")
	want := strings.Join([]string{
		"Not connected [disabled]",
		" [disabled] [hidden]",
		"---",
		"Reconnect now",
		"Pause notifications",
		"  For 15 minutes",
		"  For 1 hour",
		"  Until tomorrow",
		"  Show errors while paused [checked]",
		"  Resume [disabled]",
		"---",
		"Notification history…",
		"Settings…",
		"---",
		"Quit",
	}, "\n")
	if got != want {
		t.Errorf("menu over D-Bus:\n%s\nwant:\n%s", got, want)
	}

	item := conn.Object(name, "/StatusNotifierItem")
	v, err := item.GetProperty("org.kde.StatusNotifierItem.ToolTip")
	if err != nil || !strings.Contains(fmt.Sprint(v.Value()), "ToastTray — Not connected") {
		t.Errorf("tooltip = %v, %v", v, err)
	}
	if _, err := item.GetProperty("org.kde.StatusNotifierItem.IconPixmap"); err != nil {
		t.Errorf("icon: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	actions := make(chan Action)
	done := make(chan struct{})
	go func() { defer close(done); st.forward(ctx, actions) }()
	defer func() { cancel(); <-done }()

	// systray drops a click nobody receives; forward is receiving once
	// it runs, so repeat the click until it arrives.
	click := func(id int32, want Action) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			if err := menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked",
				dbus.MakeVariant(""), uint32(0)).Err; err != nil {
				t.Fatalf("Event: %v", err)
			}
			select {
			case a := <-actions:
				if a != want {
					t.Fatalf("click gave %v, want %v", a, want)
				}
				return
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatal("click never arrived")
			}
		}
	}
	click(ids["For 15 minutes"], ActPause15Min)

	// "Not set up — open Settings" is enabled and opens Settings. (Read
	// with GetGroupProperties: a GetLayout after a redraw trips a race
	// inside fyne.io/systray, whose refresh and GetLayout take different
	// locks around the menu version.)
	st.draw(Render(View{}, now))
	statusID := ids["Not connected"]
	var props []struct {
		V0 int32
		V1 map[string]dbus.Variant
	}
	if err := menu.Call("com.canonical.dbusmenu.GetGroupProperties", 0, []int32{statusID}, []string{}).Store(&props); err != nil {
		t.Fatalf("GetGroupProperties: %v", err)
	}
	if len(props) != 1 {
		t.Fatalf("status line properties: %v", props)
	}
	label, _ := props[0].V1["label"].Value().(string)
	enabled, ok := props[0].V1["enabled"].Value().(bool)
	if label != "Not set up — open Settings" || (ok && !enabled) {
		t.Errorf("status line %q enabled=%v, want it enabled", label, !ok || enabled)
	}
	click(statusID, ActSettings)
}
