package tray

import (
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/wsclient"
)

// The announcer, step by step with a fake time: each change that needs
// the user is said once, retries and blips stay quiet.
func TestAnnouncer(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	st := func(s wsclient.State, err string) wsclient.Status { return wsclient.Status{State: s, Err: err} }
	refused := "sign-in: Get \"http://127.0.0.1:8000/accounts/login/\": dial tcp 127.0.0.1:8000: connect: connection refused"
	wrong := "sign-in: signed out: the site did not accept the username and password (check the username and password)"
	type step struct {
		at     time.Duration
		status wsclient.Status
		quiet  bool // the user asked for the sign-out
		title  string
		body   string
		level  wsclient.Level
		window string
		due    time.Duration // -1: none
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"a blip shorter than 30 s stays quiet", []step{
			{at: 0, status: st(wsclient.StateConnected, ""), due: -1},
			{at: time.Second, status: st(wsclient.StateWaiting, refused), due: 31 * time.Second},
			{at: 5 * time.Second, status: st(wsclient.StateConnecting, ""), due: 31 * time.Second},
			{at: 29 * time.Second, status: st(wsclient.StateConnected, ""), due: -1},
		}},
		{"offline once per outage, back online after it", []step{
			{at: 0, status: st(wsclient.StateConnecting, ""), due: 30 * time.Second},
			{at: 10 * time.Second, status: st(wsclient.StateWaiting, refused), due: 30 * time.Second},
			{at: 30 * time.Second, status: st(wsclient.StateWaiting, refused), title: "Offline",
				body: "No connection to example.com for 30 s. The site refuses connections: it may be down. " +
					"ToastTray keeps trying; click to open Settings.",
				level: wsclient.LevelWarning, window: notify.WindowSettings, due: -1},
			{at: 40 * time.Second, status: st(wsclient.StateConnecting, ""), due: -1},
			{at: 70 * time.Second, status: st(wsclient.StateRateLimited, "too many requests"), due: -1},
			{at: 3*time.Minute + 20*time.Second, status: st(wsclient.StateConnected, ""), title: "Back online",
				body:  "Connected to example.com again after 3 min offline. Click to see what arrived in Notification history.",
				level: wsclient.LevelSuccess, window: notify.WindowHistory, due: -1},
			{at: 4 * time.Minute, status: st(wsclient.StateConnected, ""), due: -1},
		}},
		{"signed out once, again only after a new attempt", []step{
			{at: 0, status: st(wsclient.StateConnecting, ""), due: 30 * time.Second},
			{at: time.Second, status: st(wsclient.StateSignedOut, wrong), title: "Signed out of example.com",
				body:  "The site did not accept the username and password. Click to open Settings and sign in again.",
				level: wsclient.LevelError, window: notify.WindowSettings, due: -1},
			{at: time.Minute, status: st(wsclient.StateSignedOut, wrong), due: -1},
			{at: 2 * time.Minute, status: st(wsclient.StateConnecting, ""), due: 2*time.Minute + 30*time.Second},
			{at: 2*time.Minute + time.Second, status: st(wsclient.StateSignedOut, ""), title: "Signed out of example.com",
				body:  "The site ended the session. Click to open Settings and sign in again.",
				level: wsclient.LevelError, window: notify.WindowSettings, due: -1},
		}},
		{"offline, then signed out: no back online", []step{
			{at: 0, status: st(wsclient.StateWaiting, refused), due: 30 * time.Second},
			{at: 45 * time.Second, status: st(wsclient.StateWaiting, refused), title: "Offline",
				body: "No connection to example.com for 45 s. The site refuses connections: it may be down. " +
					"ToastTray keeps trying; click to open Settings.",
				level: wsclient.LevelWarning, window: notify.WindowSettings, due: -1},
			{at: 50 * time.Second, status: st(wsclient.StateSignedOut, "token: no session and no password"), title: "Signed out of example.com",
				body:  "No password or session cookie is saved for this account. Click to open Settings and sign in again.",
				level: wsclient.LevelError, window: notify.WindowSettings, due: -1},
		}},
		{"a sign-out the user asked for is not announced", []step{
			{at: 0, status: st(wsclient.StateConnected, ""), quiet: true, due: -1},
			{at: time.Second, status: st(wsclient.StateConnected, ""), due: -1},
			{at: 2 * time.Second, status: st(wsclient.StateSignedOut, "The saved credentials were deleted."), due: -1},
			{at: 3 * time.Second, status: st(wsclient.StateStopped, ""), due: -1},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a announcer
			for i, s := range c.steps {
				if s.quiet {
					a.quietSignOut = true
				}
				n, ok := a.step(s.status, "example.com", t0.Add(s.at))
				if ok != (s.title != "") || n.Title != s.title || n.Body != s.body || n.Level != s.level || n.Window != s.window {
					t.Fatalf("step %d (%v): got %v %+v, want %q %q", i, s.status.State, ok, n, s.title, s.body)
				}
				if n.Level == wsclient.LevelError && !n.Urgent {
					t.Fatalf("step %d: a sign-out is urgent", i)
				}
				want := time.Time{}
				if s.due >= 0 {
					want = t0.Add(s.due)
				}
				if got := a.due(); !got.Equal(want) {
					t.Fatalf("step %d: due %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestOfflineSince(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var a announcer
	a.step(wsclient.Status{State: wsclient.StateWaiting}, "x", t0)
	if !a.offlineSince(t0.Add(OfflineAfter - time.Nanosecond)).IsZero() {
		t.Fatal("offline too early")
	}
	if got := a.offlineSince(t0.Add(OfflineAfter)); !got.Equal(t0) {
		t.Fatalf("offline since %v", got)
	}
	a.step(wsclient.Status{State: wsclient.StateConnected}, "x", t0.Add(time.Minute))
	if !a.offlineSince(t0.Add(time.Minute)).IsZero() {
		t.Fatal("still offline when connected")
	}
}
