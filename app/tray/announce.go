package tray

import (
	"fmt"
	"time"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/wsclient"
)

// OfflineAfter is how long the tray may go without a connection before it
// calls itself offline: the icon turns to the offline image and one
// notification says so. Shorter outages (a rotation, a blip, a wake from
// sleep) stay quiet.
const OfflineAfter = 30 * time.Second

// announcer decides which connection changes need the user and says each
// once: signed out (until the next attempt: the client does not retry a
// sign-out on its own, the user or a settings change does), offline (once
// per outage), back online (after an announced outage). It is a pure state
// machine over (status, now): the controller feeds it the latest status
// on every wake and sets a timer for due.
type announcer struct {
	downSince time.Time // trying to connect since; zero: connected, signed out or stopped
	offline   bool      // this outage was announced
	signedOut bool      // this sign-out was announced
	// quietSignOut: the user asked for the next sign-out (Forget
	// credentials); it needs no announcement.
	quietSignOut bool
}

// step takes the latest status at now and returns the notification to
// show, if any.
func (a *announcer) step(st wsclient.Status, site string, now time.Time) (notify.Notification, bool) {
	switch st.State {
	case wsclient.StateConnected:
		was, since := a.offline, a.downSince
		a.downSince, a.offline, a.signedOut = time.Time{}, false, false
		if !was {
			return notify.Notification{}, false
		}
		return notify.Notification{
			Title: "Back online",
			Body: fmt.Sprintf("Connected to %s again after %s offline. Click to see what arrived in Notification history.",
				site, outage(now.Sub(since))),
			Level: wsclient.LevelSuccess, Window: notify.WindowHistory,
		}, true
	case wsclient.StateSignedOut:
		a.downSince, a.offline = time.Time{}, false
		if a.signedOut || a.quietSignOut {
			a.signedOut, a.quietSignOut = true, false
			return notify.Notification{}, false
		}
		a.signedOut = true
		return notify.Notification{
			Title: "Signed out of " + site,
			Body:  Reason(st.Err, "The site ended the session.") + " Click to open Settings and sign in again.",
			Level: wsclient.LevelError, Urgent: true, Window: notify.WindowSettings,
		}, true
	case wsclient.StateConnecting, wsclient.StateWaiting, wsclient.StateRateLimited:
		a.signedOut = false
		if a.downSince.IsZero() {
			a.downSince = now
		}
		if a.offline || now.Sub(a.downSince) < OfflineAfter {
			return notify.Notification{}, false
		}
		a.offline = true
		return notify.Notification{
			Title: "Offline",
			Body: fmt.Sprintf("No connection to %s for %s. %s ToastTray keeps trying; click to open Settings.",
				site, outage(now.Sub(a.downSince)), Reason(st.Err, "The site does not answer.")),
			Level: wsclient.LevelWarning, Window: notify.WindowSettings,
		}, true
	default: // stopped: settings changed or invalid; the menu says so
		a.downSince, a.offline = time.Time{}, false
		return notify.Notification{}, false
	}
}

// due is when step must next run without a new status: when the current
// outage becomes announceable. Zero: nothing pending.
func (a *announcer) due() time.Time {
	if a.downSince.IsZero() || a.offline {
		return time.Time{}
	}
	return a.downSince.Add(OfflineAfter)
}

// offlineSince is when the current outage began, once it has lasted
// OfflineAfter at now; zero otherwise.
func (a *announcer) offlineSince(now time.Time) time.Time {
	if a.downSince.IsZero() || now.Sub(a.downSince) < OfflineAfter {
		return time.Time{}
	}
	return a.downSince
}

// outage renders an outage's length: "45 s", "3 min", "2 h 5 min".
func outage(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
