// Package notify turns toasts into desktop notifications: formatting, a
// Gate that decides what pops up (level filter, pause, burst coalescing)
// and a Notifier that shows it (D-Bus on Linux, toasts on Windows, beeep
// elsewhere) and acts on clicks.
package notify

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/toasttray/toasttray/wsclient"
)

// Notification is one popup, platform-neutral: Title and Body are plain
// text; a Notifier escapes them as its platform needs.
type Notification struct {
	Title, Body string
	Level       wsclient.Level
	Urgent      bool   // shown as critical / alert
	Sound       bool   // play a sound, where the platform allows
	Icon        string // PNG path; empty: the Notifier's icon for Level
	// URL is opened when the notification is clicked; it is "" or a link
	// that passed wsclient.LinkURL. Without one a click opens Window.
	URL string
	// Window is the app window a click opens when there is no URL:
	// WindowHistory ("" too) or WindowSettings.
	Window string
}

// The windows a click on a notification can open (BeeepOptions.OnOpen).
const (
	WindowHistory  = "history"
	WindowSettings = "settings"
)

// window is the window a click on n opens when it has no URL.
func (n Notification) window() string {
	if n.Window == "" {
		return WindowHistory
	}
	return n.Window
}

// Notifier shows notifications. Implementations may block (D-Bus, a
// spawned process), so callers go through a Gate, which calls Notify from
// its own goroutine.
type Notifier interface {
	Notify(n Notification) error
}

// FromToast formats a toast. site is the Django site URL (its host names
// the notification when the toast has no title). Errors are urgent, with
// sound if soundOnError. The text is the toast's as decoded: one line of
// title and a body, each already cut to wsclient's bounds.
func FromToast(t wsclient.Toast, site string, soundOnError bool) Notification {
	title := t.Title
	if title == "" {
		title = siteName(site) + " · " + t.Level.Name()
	}
	urgent := t.Level == wsclient.LevelError
	link, _ := wsclient.LinkURL(t.URL)
	return Notification{
		Title:  title,
		Body:   t.Message,
		Level:  t.Level,
		Urgent: urgent,
		Sound:  urgent && soundOnError,
		URL:    link,
	}
}

// siteName is the host of a site URL ("www.example.com"), or the text
// itself if it does not parse.
func siteName(site string) string {
	if u, err := url.Parse(site); err == nil && u.Host != "" {
		return u.Host
	}
	if site == "" {
		return "ToastTray"
	}
	return site
}

// escapeMarkup escapes &, < and > for notification servers that read the
// body as markup (freedesktop body-markup), so a toast cannot inject
// links, images or formatting.
func escapeMarkup(s string) string {
	return markup.Replace(s)
}

var markup = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// summary is the popup that stands for n coalesced notifications; its
// title names the highest level, and a click opens the history.
func summary(n int, byLevel map[wsclient.Level]int, top wsclient.Level, urgent, sound bool) Notification {
	title := fmt.Sprintf("%d more notifications — highest: %s", n, top.Name())
	var parts []string
	for _, l := range []wsclient.Level{wsclient.LevelError, wsclient.LevelWarning, wsclient.LevelSuccess, wsclient.LevelInfo} {
		if c := byLevel[l]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, l))
		}
	}
	return Notification{
		Title: title, Body: strings.Join(parts, ", ") + " — click to see them in Notification history",
		Level: top, Urgent: urgent, Sound: sound, Window: WindowHistory,
	}
}
