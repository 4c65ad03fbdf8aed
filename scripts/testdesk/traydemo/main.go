// Command traydemo is a minimal fyne.io/systray program for the desktop
// integration tests and for trying scripts/smoke before the real tray
// exists. Its menu: "Status: test" (disabled), "Pause notifications"
// (checkbox, on), a separator, "Quit". Quit, SIGINT or SIGTERM end it with
// status 0.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"fyne.io/systray"
	"github.com/toasttray/toasttray/assets"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	systray.Run(func() { onReady(ctx) }, func() { fmt.Println("traydemo: exit") })
}

// onReady builds the menu and starts the goroutine that handles clicks; it
// ends when the tray quits.
func onReady(ctx context.Context) {
	systray.SetIcon(assets.TraySystrayLinux(assets.TrayConnected))
	systray.SetTitle("ToastTray test")
	systray.SetTooltip("ToastTray test tray")
	status := systray.AddMenuItem("Status: test", "")
	status.Disable()
	pause := systray.AddMenuItemCheckbox("Pause notifications", "", true)
	systray.AddSeparator()
	quit := systray.AddMenuItem("Quit", "")
	go func() {
		defer systray.Quit()
		for {
			select {
			case <-ctx.Done():
				return
			case <-quit.ClickedCh:
				return
			case <-pause.ClickedCh:
				if pause.Checked() {
					pause.Uncheck()
				} else {
					pause.Check()
				}
			}
		}
	}()
}
