package tray

import (
	"context"
	"runtime"
	"sync"

	"fyne.io/systray"

	"github.com/toasttray/toasttray/assets"
)

// Action is a click on a tray menu item.
type Action int

// The menu's actions.
const (
	ActReconnect Action = iota + 1
	ActPause15Min
	ActPause1Hour
	ActPauseTomorrow
	ActResume
	ActHistory
	ActSettings
	ActQuit
	ActPauseErrors // toggles "Show errors while paused"
	ActSignOut     // not a menu item: the Settings window forgot the credentials
)

// lineAction is a click on the status or detail line: forward turns it
// into the line's Menu.StatusAction or DetailAction as last drawn.
type lineAction int

const (
	statusLine lineAction = iota
	detailLine
)

func (a Action) String() string {
	switch a {
	case ActReconnect:
		return "reconnect"
	case ActPause15Min:
		return "pause-15min"
	case ActPause1Hour:
		return "pause-1h"
	case ActPauseTomorrow:
		return "pause-tomorrow"
	case ActResume:
		return "resume"
	case ActHistory:
		return "history"
	case ActSettings:
		return "settings"
	case ActQuit:
		return "quit"
	case ActPauseErrors:
		return "pause-errors"
	case ActSignOut:
		return "sign-out"
	}
	return "unknown"
}

// sysTray is the tray icon and menu over fyne.io/systray (StatusNotifierItem
// + dbusmenu on Linux). It only draws Menus and turns clicks into Actions;
// it decides nothing.
type sysTray struct {
	status, detail                      *systray.MenuItem
	reconnect                           *systray.MenuItem
	pause, p15, p1h, pTomorrow, pResume *systray.MenuItem
	pErrors                             *systray.MenuItem
	history, settings, quit             *systray.MenuItem

	last  Menu
	drawn bool

	mu       sync.Mutex // draw and forward run on different goroutines
	lineActs [2]Action  // by lineAction: what the status and detail lines do
}

// buildSysTray creates the menu items. It must run after systray is ready.
func buildSysTray() *sysTray {
	t := &sysTray{}
	systray.SetTitle("ToastTray")
	t.status = systray.AddMenuItem("ToastTray", "")
	t.status.Disable()
	t.detail = systray.AddMenuItem("", "")
	t.detail.Disable()
	t.detail.Hide()
	systray.AddSeparator()
	t.reconnect = systray.AddMenuItem("Reconnect now", "Drop the connection and connect again now")
	t.pause = systray.AddMenuItem("Pause notifications", "Stop popups for a while; history still records them")
	t.p15 = t.pause.AddSubMenuItem("For 15 minutes", "")
	t.p1h = t.pause.AddSubMenuItem("For 1 hour", "")
	t.pTomorrow = t.pause.AddSubMenuItem("Until tomorrow", "Until tomorrow at 08:00")
	t.pErrors = t.pause.AddSubMenuItemCheckbox("Show errors while paused", "Errors still pop up during a pause", true)
	t.pResume = t.pause.AddSubMenuItem("Resume", "Show notifications again")
	systray.AddSeparator()
	t.history = systray.AddMenuItem("Notification history…", "")
	t.settings = systray.AddMenuItem("Settings…", "")
	systray.AddSeparator()
	t.quit = systray.AddMenuItem("Quit", "Quit ToastTray")
	return t
}

// draw applies m, touching only what changed since the last draw: every
// change is a D-Bus signal the tray host has to process.
func (t *sysTray) draw(m Menu) {
	first := !t.drawn
	old := t.last
	t.last, t.drawn = m, true

	if first || m.Icon != old.Icon {
		if runtime.GOOS == "windows" {
			systray.SetIcon(assets.TrayICO(m.Icon))
		} else {
			systray.SetIcon(assets.Tray(m.Icon))
		}
	}
	if first || m.Tooltip != old.Tooltip {
		systray.SetTooltip(m.Tooltip)
	}
	if first || m.Status != old.Status {
		t.status.SetTitle(m.Status)
	}
	if first || m.StatusAction != old.StatusAction || m.DetailAction != old.DetailAction {
		t.mu.Lock()
		t.lineActs = [2]Action{statusLine: m.StatusAction, detailLine: m.DetailAction}
		t.mu.Unlock()
		setEnabled(t.status, m.StatusAction != 0)
		setEnabled(t.detail, m.DetailAction != 0)
	}
	if first || m.Detail != old.Detail {
		if m.Detail == "" {
			t.detail.Hide()
		} else {
			t.detail.SetTitle(m.Detail)
			t.detail.Show()
		}
	}
	if first || m.ReconnectEnabled != old.ReconnectEnabled {
		setEnabled(t.reconnect, m.ReconnectEnabled)
	}
	if first || m.PauseTitle != old.PauseTitle {
		t.pause.SetTitle(m.PauseTitle)
	}
	if first || m.Paused != old.Paused {
		setEnabled(t.pResume, m.Paused)
	}
	if first || m.PauseErrors != old.PauseErrors {
		if m.PauseErrors {
			t.pErrors.Check()
		} else {
			t.pErrors.Uncheck()
		}
	}
}

func setEnabled(item *systray.MenuItem, on bool) {
	if on {
		item.Enable()
	} else {
		item.Disable()
	}
}

func (t *sysTray) lineAction(l lineAction) Action {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lineActs[l]
}

// forward turns clicks into Actions until ctx ends. systray drops a click
// when nobody is receiving, so this goroutine does nothing but receive and
// hand over.
func (t *sysTray) forward(ctx context.Context, out chan<- Action) {
	for {
		var a Action
		select {
		case <-ctx.Done():
			return
		case <-t.reconnect.ClickedCh:
			a = ActReconnect
		case <-t.p15.ClickedCh:
			a = ActPause15Min
		case <-t.p1h.ClickedCh:
			a = ActPause1Hour
		case <-t.pTomorrow.ClickedCh:
			a = ActPauseTomorrow
		case <-t.pResume.ClickedCh:
			a = ActResume
		case <-t.pErrors.ClickedCh:
			a = ActPauseErrors
		case <-t.history.ClickedCh:
			a = ActHistory
		case <-t.settings.ClickedCh:
			a = ActSettings
		case <-t.quit.ClickedCh:
			a = ActQuit
		case <-t.status.ClickedCh:
			a = t.lineAction(statusLine)
		case <-t.detail.ClickedCh:
			a = t.lineAction(detailLine)
		}
		if a == 0 { // a click that raced the line's disabling
			continue
		}
		select {
		case out <- a:
		case <-ctx.Done():
			return
		}
	}
}
