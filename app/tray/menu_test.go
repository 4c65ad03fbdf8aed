package tray

import (
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/wsclient"
)

func TestRenderEveryState(t *testing.T) {
	loc := time.FixedZone("test", 2*3600)
	now := time.Date(2026, 11, 26, 10, 50, 0, 300e6, loc) // 10:50:00.3
	since := time.Date(2026, 11, 26, 10, 42, 5, 0, loc)
	base := View{Site: "example.com", Channel: "ops", Configured: true}
	with := func(st wsclient.Status, edit ...func(*View)) View {
		v := base
		v.Status = st
		for _, e := range edit {
			e(&v)
		}
		return v
	}
	paused := func(until time.Time) func(*View) { return func(v *View) { v.PauseUntil = until } }
	midnight := time.Date(2026, 11, 27, 0, 0, 0, 0, loc)

	tests := []struct {
		name string
		v    View
		want Menu
	}{
		{
			name: "first run, nothing configured",
			v:    View{},
			want: Menu{Icon: assets.TrayOffline, Status: "Not set up — open Settings",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "connected",
			v:    with(wsclient.Status{State: wsclient.StateConnected, Since: since}),
			want: Menu{Icon: assets.TrayConnected, ReconnectEnabled: true,
				Status:     "Connected to example.com · channel ops · since 10:42",
				PauseTitle: "Pause notifications", Refresh: midnight},
		},
		{
			name: "connected to the default channel since yesterday",
			v: with(wsclient.Status{State: wsclient.StateConnected, Since: since.AddDate(0, 0, -1)},
				func(v *View) { v.Channel = "" }),
			want: Menu{Icon: assets.TrayConnected, ReconnectEnabled: true,
				Status:     "Connected to example.com · default channel · since 25 Nov 10:42",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "connecting, first attempt",
			v:    with(wsclient.Status{State: wsclient.StateConnecting, Since: now}),
			want: Menu{Icon: assets.TrayConnecting, ReconnectEnabled: true,
				Status: "Connecting to example.com…", PauseTitle: "Pause notifications"},
		},
		{
			name: "connecting after failures",
			v:    with(wsclient.Status{State: wsclient.StateConnecting, Attempt: 3, Err: "dial: connection refused"}),
			want: Menu{Icon: assets.TrayConnecting, ReconnectEnabled: true,
				Status: "Connecting to example.com… (attempt 4)", Detail: "The site refuses connections: it may be down.",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "waiting: countdown rounds up and refreshes at the next whole second",
			v: with(wsclient.Status{State: wsclient.StateWaiting, Attempt: 3,
				Until: now.Add(11*time.Second + 200*time.Millisecond), Err: "server error\n500"}),
			want: Menu{Icon: assets.TrayConnecting, ReconnectEnabled: true,
				Status: "Reconnecting in 12 s (attempt 4)", Detail: "server error 500",
				PauseTitle: "Pause notifications",
				Refresh:    now.Add(200 * time.Millisecond)},
		},
		{
			name: "waiting: minutes",
			v: with(wsclient.Status{State: wsclient.StateWaiting, Attempt: 1,
				Until: now.Add(90 * time.Second)}),
			want: Menu{Icon: assets.TrayConnecting, ReconnectEnabled: true,
				Status: "Reconnecting in 1 min 30 s (attempt 2)", PauseTitle: "Pause notifications",
				Refresh: now.Add(time.Second)},
		},
		{
			name: "waiting: deadline passed, no countdown and no refresh",
			v:    with(wsclient.Status{State: wsclient.StateWaiting, Until: now.Add(-time.Second)}),
			want: Menu{Icon: assets.TrayConnecting, ReconnectEnabled: true,
				Status: "Reconnecting…", PauseTitle: "Pause notifications"},
		},
		{
			name: "rate limited",
			v: with(wsclient.Status{State: wsclient.StateRateLimited, Attempt: 2,
				Until: now.Add(45 * time.Second), Err: "Rate limit exceeded"}),
			want: Menu{Icon: assets.TrayOffline, ReconnectEnabled: true,
				Status: "Rate limited by the server — retrying in 45 s", Detail: "The site limits how often this account may connect; ToastTray waits a minute.",
				PauseTitle: "Pause notifications", Refresh: now.Add(time.Second)},
		},
		{
			name: "signed out",
			v:    with(wsclient.Status{State: wsclient.StateSignedOut, Err: "session expired"}),
			want: Menu{Icon: assets.TraySignedOut, ReconnectEnabled: true,
				Status: "Signed out — open Settings", Detail: "session expired",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "signed out because the keyring could not be read",
			v: func() View {
				v := with(wsclient.Status{State: wsclient.StateSignedOut, Err: "Authentication required"})
				v.CredsProblem = "reading credentials: keyring is locked"
				return v
			}(),
			want: Menu{Icon: assets.TraySignedOut, ReconnectEnabled: true,
				Status: "Cannot read the keyring — open Settings", Detail: "The system keyring could not be read: unlock it, then choose Reconnect now.",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "stopped with an error",
			v:    with(wsclient.Status{State: wsclient.StateStopped, Err: "bad CA file"}),
			want: Menu{Icon: assets.TrayOffline, ReconnectEnabled: true,
				Status: "Stopped — open Settings", Detail: "bad CA file",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "stopped cleanly",
			v:    with(wsclient.Status{State: wsclient.StateStopped}),
			want: Menu{Icon: assets.TrayOffline, ReconnectEnabled: true,
				Status: "Not connected", PauseTitle: "Pause notifications"},
		},
		{
			name: "connected and paused: paused icon, refresh at the pause's end",
			v: with(wsclient.Status{State: wsclient.StateConnected, Since: since},
				paused(now.Add(15*time.Minute))),
			want: Menu{Icon: assets.TrayPaused, ReconnectEnabled: true, Paused: true,
				Status:     "Connected to example.com · channel ops · since 10:42",
				PauseTitle: "Paused until 11:05", Refresh: now.Add(15 * time.Minute)},
		},
		{
			name: "waiting and paused: countdown refresh comes first",
			v: with(wsclient.Status{State: wsclient.StateWaiting, Until: now.Add(5 * time.Second)},
				paused(now.Add(time.Hour))),
			want: Menu{Icon: assets.TrayPaused, ReconnectEnabled: true, Paused: true,
				Status: "Reconnecting in 5 s", PauseTitle: "Paused until 11:50",
				Refresh: now.Add(time.Second)},
		},
		{
			name: "signed out and paused until tomorrow: signed-out icon wins",
			v: with(wsclient.Status{State: wsclient.StateSignedOut},
				paused(PauseEnd(PauseTomorrow, now))),
			want: Menu{Icon: assets.TraySignedOut, ReconnectEnabled: true, Paused: true,
				Status: "Signed out — open Settings", PauseTitle: "Paused until Fri 08:00",
				Refresh: time.Date(2026, 11, 27, 8, 0, 0, 0, loc)},
		},
		{
			name: "pause already over",
			v: with(wsclient.Status{State: wsclient.StateConnected, Since: since},
				paused(now.Add(-time.Minute))),
			want: Menu{Icon: assets.TrayConnected, ReconnectEnabled: true,
				Status:     "Connected to example.com · channel ops · since 10:42",
				PauseTitle: "Pause notifications", Refresh: midnight},
		},
		{
			name: "demo mode says so",
			v: with(wsclient.Status{State: wsclient.StateConnected, Since: since},
				func(v *View) { v.Demo = true; v.Site = "127.0.0.1:41234"; v.Channel = "demo" }),
			want: Menu{Icon: assets.TrayConnected, ReconnectEnabled: true,
				Status:     "Connected to 127.0.0.1:41234 (demo) · channel demo · since 10:42",
				PauseTitle: "Pause notifications", Refresh: midnight},
		},
		{
			name: "offline for 30 s: offline icon, since when",
			v: with(wsclient.Status{State: wsclient.StateWaiting, Attempt: 4, Until: now.Add(5 * time.Second),
				Err: "sign-in: Get \"http://127.0.0.1:8000/accounts/login/\": dial tcp 127.0.0.1:8000: connect: connection refused"},
				func(v *View) { v.OfflineSince = since }),
			want: Menu{Icon: assets.TrayOffline, ReconnectEnabled: true,
				Status:     "Offline since 10:42 · Reconnecting in 5 s (attempt 5)",
				Detail:     "The site refuses connections: it may be down.",
				PauseTitle: "Pause notifications", Refresh: now.Add(time.Second)},
		},
		{
			name: "offline and paused: offline icon wins",
			v: with(wsclient.Status{State: wsclient.StateConnecting},
				func(v *View) { v.OfflineSince = since }, paused(now.Add(time.Hour))),
			want: Menu{Icon: assets.TrayOffline, ReconnectEnabled: true, Paused: true,
				Status:     "Offline since 10:42 · Connecting to example.com…",
				PauseTitle: "Paused until 11:50", Refresh: now.Add(time.Hour)},
		},
		{
			name: "paused, errors still shown",
			v: with(wsclient.Status{State: wsclient.StateConnected, Since: since},
				paused(now.Add(time.Hour)), func(v *View) { v.PauseErrors = true }),
			want: Menu{Icon: assets.TrayPaused, ReconnectEnabled: true, Paused: true, PauseErrors: true,
				Status:     "Connected to example.com · channel ops · since 10:42",
				PauseTitle: "Paused until 11:50, except errors", Refresh: now.Add(time.Hour)},
		},
		{
			name: "password accepted, token still refused: one plain sentence",
			v: with(wsclient.Status{State: wsclient.StateSignedOut,
				Err: "token: signed out: the site says Authentication required (signed in, yet the token endpoint says " +
					"Authentication required: check the session cookie name and the token path)"}),
			want: Menu{Icon: assets.TraySignedOut, ReconnectEnabled: true, Status: "Signed out — open Settings",
				Detail:     "The site accepted the password but still refuses the connection as signed out.",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "wrong password",
			v: with(wsclient.Status{State: wsclient.StateSignedOut,
				Err: "sign-in: signed out: the site did not accept the username and password (check the username and password " +
					"(sites with single sign-on or two-factor need a pasted session cookie))"}),
			want: Menu{Icon: assets.TraySignedOut, ReconnectEnabled: true, Status: "Signed out — open Settings",
				Detail:     "The site did not accept the username and password.",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "unknown long error is cut at a word",
			v: with(wsclient.Status{State: wsclient.StateStopped,
				Err: "the handshake went wrong in a way nobody expected, with a story far too long for a menu line to hold"}),
			want: Menu{Icon: assets.TrayOffline, ReconnectEnabled: true, Status: "Stopped — open Settings",
				Detail:     "the handshake went wrong in a way nobody expected, with a story far too long…",
				PauseTitle: "Pause notifications"},
		},
		{
			name: "long error is cut",
			v: with(wsclient.Status{State: wsclient.StateSignedOut,
				Err: strings.Repeat("x", 200)}),
			want: Menu{Icon: assets.TraySignedOut, ReconnectEnabled: true,
				Status: "Signed out — open Settings", Detail: strings.Repeat("x", 79) + "…",
				PauseTitle: "Pause notifications"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render(tt.v, now)
			got.StatusAction, got.DetailAction = 0, 0 // TestMenuLinesOpenWhatTheyName
			want := tt.want
			want.Tooltip = "ToastTray — " + want.Status
			if want.Paused {
				want.Tooltip += "\nNotifications p" + strings.TrimPrefix(want.PauseTitle, "P")
			}
			if got != want {
				t.Errorf("Render() =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

// The status line is enabled when it names something to open, and opens
// it; an error line opens Settings (Test connection), except while rate
// limited; lines that only inform stay disabled.
func TestMenuLinesOpenWhatTheyName(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 50, 0, 0, time.UTC)
	on := func(st wsclient.Status) View { return View{Configured: true, Site: "example.com", Status: st} }
	tests := []struct {
		v              View
		status, detail Action
	}{
		{View{}, ActSettings, 0}, // Not set up — open Settings
		{on(wsclient.Status{State: wsclient.StateSignedOut, Err: "session expired"}), ActSettings, ActSettings},
		{on(wsclient.Status{State: wsclient.StateSignedOut}), ActSettings, 0},
		{func() View {
			v := on(wsclient.Status{State: wsclient.StateSignedOut})
			v.CredsProblem = "keyring is locked"
			return v
		}(), ActSettings, ActSettings}, // Cannot read the keyring — open Settings
		{on(wsclient.Status{State: wsclient.StateStopped, Err: "bad CA file"}), ActSettings, ActSettings},
		{on(wsclient.Status{State: wsclient.StateStopped}), 0, 0}, // Not connected
		{on(wsclient.Status{State: wsclient.StateConnected, Since: now}), 0, 0},
		{on(wsclient.Status{State: wsclient.StateConnecting}), 0, 0},
		{on(wsclient.Status{State: wsclient.StateConnecting, Attempt: 2, Err: "dial: connection refused"}), 0, ActSettings},
		{on(wsclient.Status{State: wsclient.StateWaiting, Until: now.Add(time.Minute), Err: "TLS: certificate expired"}), 0, ActSettings},
		{on(wsclient.Status{State: wsclient.StateRateLimited, Until: now.Add(time.Minute), Err: "Rate limit exceeded"}), 0, 0},
	}
	for _, tt := range tests {
		m := Render(tt.v, now)
		if m.StatusAction != tt.status || m.DetailAction != tt.detail {
			t.Errorf("%q / %q: status line %v, detail line %v; want %v, %v",
				m.Status, m.Detail, m.StatusAction, m.DetailAction, tt.status, tt.detail)
		}
		if (m.DetailAction != 0) && m.Detail == "" {
			t.Errorf("%q: hidden detail line with an action", m.Status)
		}
	}
}

// Every wsclient state must render a non-empty status line and a known icon.
func TestRenderCoversAllStates(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	states := []wsclient.State{wsclient.StateStopped, wsclient.StateConnecting,
		wsclient.StateConnected, wsclient.StateWaiting, wsclient.StateRateLimited,
		wsclient.StateSignedOut}
	seen := map[string]wsclient.State{}
	for _, s := range states {
		m := Render(View{Configured: true, Site: "h", Status: wsclient.Status{State: s, Since: now, Until: now.Add(time.Minute)}}, now)
		if m.Status == "" {
			t.Errorf("state %v: empty status line", s)
		}
		known := false
		for _, ts := range assets.TrayStates {
			known = known || ts == m.Icon
		}
		if !known {
			t.Errorf("state %v: unknown icon %q", s, m.Icon)
		}
		if prev, dup := seen[m.Status]; dup {
			t.Errorf("states %v and %v render the same line %q", prev, s, m.Status)
		}
		seen[m.Status] = s
	}
}

// The countdown re-renders only on whole-second boundaries: walking the
// refresh times from one render to the next visits each second once.
func TestCountdownWakesOncePerSecond(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 700e6, time.UTC)
	v := View{Configured: true, Status: wsclient.Status{State: wsclient.StateWaiting, Until: now.Add(3*time.Second + 100e6)}}
	var lines []string
	for i := 0; i < 10; i++ {
		m := Render(v, now)
		lines = append(lines, m.Status)
		if m.Refresh.IsZero() {
			break
		}
		if !m.Refresh.After(now) {
			t.Fatalf("refresh %v not after now %v", m.Refresh, now)
		}
		now = m.Refresh
	}
	want := []string{"Reconnecting in 4 s", "Reconnecting in 3 s", "Reconnecting in 2 s", "Reconnecting in 1 s", "Reconnecting…"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", lines, want)
	}
}

func TestPauseEnd(t *testing.T) {
	loc := time.FixedZone("x", -5*3600)
	now := time.Date(2026, 12, 31, 23, 30, 0, 0, loc)
	for _, tt := range []struct {
		c    PauseChoice
		want time.Time
	}{
		{Pause15Min, now.Add(15 * time.Minute)},
		{Pause1Hour, now.Add(time.Hour)},
		{PauseTomorrow, time.Date(2027, 1, 1, 8, 0, 0, 0, loc)},
	} {
		if got := PauseEnd(tt.c, now); !got.Equal(tt.want) {
			t.Errorf("PauseEnd(%v) = %v, want %v", tt.c, got, tt.want)
		}
	}
}
