//go:build integration

package integration_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/scripts/testdesk/desk"
)

// TestIntegrationSystrayItem runs a small fyne.io/systray program and
// checks what a tray host sees: registration, icon, menu, clicks, and the
// item leaving when the program quits from its menu.
func TestIntegrationSystrayItem(t *testing.T) {
	conn := sessionBus(t)
	ctx := testContext(t, 2*time.Minute)

	bin := filepath.Join(t.TempDir(), "traydemo")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/toasttray/toasttray/scripts/testdesk/traydemo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build traydemo: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// fyne.io/systray owns org.kde.StatusNotifierItem-PID-1.
	wellKnown := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", cmd.Process.Pid)
	it, err := desk.WaitItem(ctx, conn, func(it desk.Item) bool {
		var owner string
		err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, wellKnown).Store(&owner)
		return err == nil && owner == it.Service
	})
	if err != nil {
		t.Fatalf("%v; traydemo said:\n%s", err, out)
	}

	info, err := desk.ReadItem(ctx, conn, it)
	if err != nil {
		t.Fatal(err)
	}
	if info.Title != "ToastTray test" {
		t.Errorf("title %q, want %q", info.Title, "ToastTray test")
	}
	if !slices.Contains(info.IconSizes, "64x64") {
		t.Errorf("icon pixmaps %v, want a 64x64 one from assets.Tray", info.IconSizes)
	}
	if info.Icon != nil {
		// What the host shows must be the connected icon, edges included
		// (see assets.TraySystrayLinux).
		want, err := png.Decode(bytes.NewReader(assets.Tray(assets.TrayConnected)))
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(info.Icon, want); d > 8 {
			t.Errorf("tray icon as the host sees it differs from assets.Tray(TrayConnected) by up to %d", d)
		}
	}

	want := []string{"Status: test", "Pause notifications", "---", "Quit"}
	menu, err := desk.WaitMenu(ctx, conn, it, func(m desk.MenuItem) bool { return slices.Equal(m.Labels(), want) })
	if err != nil {
		t.Fatal(err)
	}
	status, _ := menu.Find("Status: test")
	if status.Enabled {
		t.Error("status entry is enabled, want disabled")
	}
	pause, _ := menu.Find("Pause notifications")
	if pause.ToggleType != "checkmark" || !pause.Checked() {
		t.Errorf("pause entry toggle %q/%d, want a checked checkmark", pause.ToggleType, pause.ToggleState)
	}

	if err := desk.Click(ctx, conn, it, pause.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.WaitMenu(ctx, conn, it, func(m desk.MenuItem) bool {
		p, ok := m.Find("Pause notifications")
		return ok && !p.Checked()
	}); err != nil {
		t.Fatalf("pause entry did not uncheck after a click: %v", err)
	}

	if err := desk.ClickLabel(ctx, conn, it, "Quit"); err != nil && !isGone(err) {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("traydemo exit: %v\n%s", err, out)
		}
	case <-ctx.Done():
		t.Fatal("traydemo still running after Quit was clicked")
	}
	if err := desk.WaitItemGone(ctx, conn, it); err != nil {
		t.Fatal(err)
	}
}

// maxDiff is the largest straight-colour channel difference between two
// images of the same size, over pixels that are not nearly transparent.
func maxDiff(a, b image.Image) int {
	worst := 0
	r := a.Bounds()
	if r.Size() != b.Bounds().Size() {
		return 255
	}
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			ca := color.NRGBAModel.Convert(a.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y)).(color.NRGBA)
			if max(ca.A, cb.A) <= 16 {
				continue
			}
			for _, d := range []int{int(ca.R) - int(cb.R), int(ca.G) - int(cb.G), int(ca.B) - int(cb.B), int(ca.A) - int(cb.A)} {
				worst = max(worst, d, -d)
			}
		}
	}
	return worst
}

// isGone reports a call that failed because the peer left the bus while
// answering, which a click on Quit may do.
func isGone(err error) bool {
	var de dbus.Error
	if !errors.As(err, &de) {
		return false
	}
	return de.Name == "org.freedesktop.DBus.Error.NoReply" || de.Name == "org.freedesktop.DBus.Error.ServiceUnknown"
}
