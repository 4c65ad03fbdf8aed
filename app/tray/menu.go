package tray

import (
	"fmt"
	"strings"
	"time"

	"github.com/toasttray/toasttray/app/text"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/wsclient"
)

// View is everything the tray shows, gathered in one value so that the menu
// can be computed by a pure function (Render) and table-tested.
type View struct {
	Status      wsclient.Status
	Site        string    // host of the configured site, e.g. "example.com"
	Channel     string    // "" = the site's default channel
	Configured  bool      // false: no settings yet (first run)
	PauseUntil  time.Time // notifications paused until then; zero or past = not paused
	PauseErrors bool      // errors still pop up during a pause
	// OfflineSince: trying to connect since then, for longer than
	// OfflineAfter (the announcer says when); zero = not offline.
	OfflineSince time.Time
	Demo         bool // running against the built-in demo server
	// CredsProblem: the keyring could not be read, so a signed-out client
	// is the keyring's fault, not the server's (see Target).
	CredsProblem string
}

// Menu is what the tray icon and menu display for one View at one instant.
type Menu struct {
	Icon             assets.TrayState
	Tooltip          string
	Status           string // first menu line; enabled when StatusAction is set
	Detail           string // second line (last error); "" = hidden
	ReconnectEnabled bool
	PauseTitle       string // title of the "Pause notifications" submenu
	Paused           bool   // enables "Resume", disables nothing else
	PauseErrors      bool   // "Show errors while paused" is checked
	// Refresh is when the menu text next changes by itself (a countdown's
	// next second, the end of a pause). Zero: only a new View changes it.
	Refresh time.Time

	// StatusAction and DetailAction are what clicking those lines does
	// (see lineActions); 0: the line is disabled, it only informs.
	StatusAction, DetailAction Action
}

// PauseChoice is an entry of the "Pause notifications" submenu.
type PauseChoice int

// The pause choices, in menu order.
const (
	Pause15Min PauseChoice = iota
	Pause1Hour
	PauseTomorrow
)

// morningHour is when "until tomorrow" ends: tomorrow at 08:00 local time.
const morningHour = 8

// PauseEnd returns when a pause chosen at now ends.
func PauseEnd(c PauseChoice, now time.Time) time.Time {
	switch c {
	case Pause15Min:
		return now.Add(15 * time.Minute)
	case Pause1Hour:
		return now.Add(time.Hour)
	default:
		y, m, d := now.Date()
		return time.Date(y, m, d+1, morningHour, 0, 0, 0, now.Location())
	}
}

// maxDetail bounds the error line so a long server message cannot make the
// menu as wide as the screen.
const maxDetail = 80

// Render computes the menu for v at now. It is a pure function: no clock, no
// I/O, so every state can be table-tested.
func Render(v View, now time.Time) Menu {
	m := Menu{ReconnectEnabled: v.Configured, PauseTitle: "Pause notifications", PauseErrors: v.PauseErrors}
	site := v.Site
	if site == "" {
		site = "the server"
	}
	if v.Demo {
		site += " (demo)"
	}
	var refresh []time.Time

	st := v.Status
	switch {
	case !v.Configured:
		m.Icon = assets.TrayOffline
		m.Status = "Not set up — open Settings"
	default:
		switch st.State {
		case wsclient.StateConnected:
			m.Icon = assets.TrayConnected
			ch := "default channel"
			if v.Channel != "" {
				ch = "channel " + v.Channel
			}
			since, next := sinceText(st.Since, now)
			m.Status = fmt.Sprintf("Connected to %s · %s · %s", site, ch, since)
			refresh = append(refresh, next)
		case wsclient.StateConnecting:
			m.Icon = assets.TrayConnecting
			m.Status = fmt.Sprintf("Connecting to %s…", site)
			if st.Attempt > 0 {
				m.Status += fmt.Sprintf(" (attempt %d)", st.Attempt+1)
			}
			m.Detail = Reason(st.Err, "")
		case wsclient.StateWaiting:
			m.Icon = assets.TrayConnecting
			left, next := countdown(st.Until, now)
			if left == "" {
				m.Status = "Reconnecting…"
			} else {
				m.Status = "Reconnecting in " + left
			}
			if st.Attempt > 0 {
				m.Status += fmt.Sprintf(" (attempt %d)", st.Attempt+1)
			}
			m.Detail = Reason(st.Err, "")
			refresh = append(refresh, next)
		case wsclient.StateRateLimited:
			m.Icon = assets.TrayOffline
			left, next := countdown(st.Until, now)
			if left == "" {
				m.Status = "Rate limited by the server — retrying…"
			} else {
				m.Status = "Rate limited by the server — retrying in " + left
			}
			m.Detail = Reason(st.Err, "")
			refresh = append(refresh, next)
		case wsclient.StateSignedOut:
			m.Icon = assets.TraySignedOut
			m.Status = "Signed out — open Settings"
			m.Detail = Reason(st.Err, "")
			if v.CredsProblem != "" {
				m.Status = "Cannot read the keyring — open Settings"
				m.Detail = Reason(v.CredsProblem, "")
			}
		default: // StateStopped and anything unknown
			m.Icon = assets.TrayOffline
			if st.Err != "" {
				m.Status = "Stopped — open Settings"
				m.Detail = Reason(st.Err, "")
			} else {
				m.Status = "Not connected"
			}
		}
	}

	if !v.OfflineSince.IsZero() && m.Icon == assets.TrayConnecting {
		m.Icon = assets.TrayOffline
		m.Status = "Offline since " + clockText(v.OfflineSince, now) + " · " + m.Status
	}

	if v.PauseUntil.After(now) {
		m.Paused = true
		m.PauseTitle = "Paused until " + clockText(v.PauseUntil, now)
		if v.PauseErrors {
			m.PauseTitle += ", except errors"
		}
		// Signed out or broken settings need the user more than a pause does.
		if m.Icon == assets.TrayConnected || m.Icon == assets.TrayConnecting {
			m.Icon = assets.TrayPaused
		}
		refresh = append(refresh, v.PauseUntil)
	}

	m.Detail = truncate(text.OneLine(m.Detail), maxDetail)
	m.StatusAction, m.DetailAction = lineActions(v, m.Detail)
	m.Tooltip = "ToastTray — " + m.Status
	if m.Paused {
		m.Tooltip += "\nNotifications " + strings.ToLower(m.PauseTitle[:1]) + m.PauseTitle[1:]
	}
	for _, t := range refresh {
		if !t.IsZero() && (m.Refresh.IsZero() || t.Before(m.Refresh)) {
			m.Refresh = t
		}
	}
	return m
}

// lineActions says what clicking the status and detail lines does. Lines
// that say "open Settings" (not set up, signed out, the keyring, stopped by
// an error) open it, and so does an error line: Settings' Test connection
// says which step fails and how to fix it. Being rate limited is not fixed
// in Settings, and the other lines only inform (0: disabled).
func lineActions(v View, detail string) (status, detailAct Action) {
	st := v.Status.State
	switch {
	case !v.Configured:
		return ActSettings, 0
	case st == wsclient.StateSignedOut, st == wsclient.StateStopped && v.Status.Err != "":
		status = ActSettings
	}
	if detail != "" && st != wsclient.StateRateLimited {
		detailAct = ActSettings
	}
	return status, detailAct
}

// countdown renders the time left until until, rounded up to whole seconds,
// and returns when that text next changes (the next whole second). Past or
// zero until: "" and no refresh.
func countdown(until, now time.Time) (string, time.Time) {
	if until.IsZero() || !until.After(now) {
		return "", time.Time{}
	}
	left := until.Sub(now)
	secs := int((left + time.Second - 1) / time.Second) // ceil
	// The text changes when the remaining time crosses (secs-1) whole seconds.
	next := until.Add(-time.Duration(secs-1) * time.Second)
	if secs < 60 {
		return fmt.Sprintf("%d s", secs), next
	}
	return fmt.Sprintf("%d min %d s", secs/60, secs%60), next
}

// sinceText renders "since 10:42" (today) or "since 24 Nov 10:42", and when
// that changes (the next midnight, when "today" ends).
func sinceText(since, now time.Time) (string, time.Time) {
	if since.IsZero() {
		return "connected", time.Time{}
	}
	since = since.In(now.Location())
	y, m, d := now.Date()
	midnight := time.Date(y, m, d+1, 0, 0, 0, 0, now.Location())
	if sy, sm, sd := since.Date(); sy == y && sm == m && sd == d {
		return "since " + since.Format("15:04"), midnight
	}
	return "since " + since.Format("2 Jan 15:04"), time.Time{}
}

// clockText renders t as "10:42" when it is today, else "Tue 08:00".
func clockText(t, now time.Time) string {
	t = t.In(now.Location())
	y, m, d := now.Date()
	if ty, tm, td := t.Date(); ty == y && tm == m && td == d {
		return t.Format("15:04")
	}
	return t.Format("Mon 15:04")
}

// truncate cuts s to at most n runes at a word boundary, marking the cut
// with "…".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n-1])
	if i := strings.LastIndex(cut, " "); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,:;(") + "…"
}

// reasons turn the client's error texts into one plain sentence each,
// first match wins. The texts come from wsclient (TokenError, dial and
// net errors); the menu line and announcements have room for a sentence,
// not for an error chain cut mid-word.
var reasons = []struct{ has, say string }{
	{"did not accept the username and password", "The site did not accept the username and password."},
	{"no session and no password", "No password or session cookie is saved for this account."},
	// A fresh sign-in worked, yet the token endpoint still asks for one.
	{"signed in, yet", "The site accepted the password but still refuses the connection as signed out."},
	{"authentication required", "The site ended the session."},
	{"saved credentials were deleted", "The saved credentials were deleted."},
	{"keyring", "The system keyring could not be read: unlock it, then choose Reconnect now."},
	{"too many requests", "The site limits how often this account may connect; ToastTray waits a minute."},
	{"rate limit", "The site limits how often this account may connect; ToastTray waits a minute."},
	{"csrf", "The site refused the request as a CSRF failure: check the Site URL."},
	{"certificate", "The site's certificate is not trusted."},
	{"x509", "The site's certificate is not trusted."},
	{"no such host", "The site's address cannot be found: check the network or the Site URL."},
	{"connection refused", "The site refuses connections: it may be down."},
	{"network is unreachable", "There is no network connection."},
	{"no route to host", "There is no network connection."},
	{"timeout", "The site does not answer in time."},
	{"deadline exceeded", "The site does not answer in time."},
	{"gateway", "The WebSocket gateway does not answer properly."},
	{"connection reset", "The connection was cut."},
	{"eof", "The connection was cut."},
	{"answered 5", "The site has a server error."},
	{"path answers", "The site does not know the token or login path: check the settings."},
}

// Reason is the plain sentence for a status error (Status.Err), fallback
// when there is none. Texts it does not know are shown as they are, cut
// at a word.
func Reason(err, fallback string) string {
	if err == "" {
		return fallback
	}
	low := strings.ToLower(err)
	for _, r := range reasons {
		if strings.Contains(low, r.has) {
			return r.say
		}
	}
	return truncate(text.OneLine(err), maxDetail)
}
