//go:build realpeer

package suite

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/scripts/testbed/realpeer"
)

const password = "TOASTTRAY_PASSWORD=" + realpeer.Password

// listenConnected starts listen on channel as alice and waits until it is
// connected and the gateway holds its connection.
func listenConnected(t *testing.T, p *realpeer.Peer, channel string) *cliProc {
	t.Helper()
	mark := gwMark(t, p)
	c := startListen(t, connArgs(p, channel, realpeer.User), password)
	c.waitState(t, "connected", 0, waitLong)
	waitGateway(t, p, mark, channel, "connect")
	return c
}

// The CLI against one peer, subtest after subtest (each on its own channel,
// one client at a time, since drop-all drops every connection).
func TestCLI(t *testing.T) {
	t.Parallel()
	p := startPeer(t, realpeer.Options{})

	t.Run("check", func(t *testing.T) {
		cmd := toasttray("check", connArgs(p, "check", realpeer.User)...)
		cmd.Env = append(cmd.Env, password)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("toasttray check: %v\n%s%s", err, out.Bytes(), errOut.Bytes())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var steps []string
		for _, l := range lines[:len(lines)-1] {
			if !strings.HasPrefix(l, "ok ") {
				t.Errorf("check step not ok: %q", l)
			}
			if len(l) > 5 { // "ok   " then the step's name in 20 columns
				steps = append(steps, strings.TrimSpace(l[5:min(25, len(l))]))
			}
		}
		if lines[len(lines)-1] != "All steps passed." {
			t.Errorf("check ended with %q", lines[len(lines)-1])
		}
		t.Logf("check steps: %v", steps)
		// It really connected: the gateway saw one connection on the channel.
		waitGateway(t, p, 0, "check", "connect disconnect\\([0-9]+,[a-z_]+\\)")
	})

	t.Run("toast", func(t *testing.T) {
		c := listenConnected(t, p, "toast")
		push(t, p, "toast", 1)
		c.waitSeq(t, 1)
		c.stop(t)
		waitGateway(t, p, 0, "toast", "connect disconnect\\(1000,client_close\\)")
		if got := c.statesSince(0); got != "connecting connected stopped" {
			t.Errorf("states %q, want connecting connected stopped", got)
		}
	})

	// Each drop ends the connection; listen reconnects and gets the next toast.
	for _, tc := range []struct{ name, query, disconnect string }{
		{"drop-abrupt", "", `disconnect\(1006,drop-all\)`},
		{"drop-close-1001", "mode=close&code=1001", `disconnect\(1001,drop-all\)`},
		{"drop-close-1012", "mode=close&code=1012", `disconnect\(1012,drop-all\)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := tc.name
			c := listenConnected(t, p, ch)
			push(t, p, ch, 1)
			c.waitSeq(t, 1)
			gm, sm := gwMark(t, p), c.mark()
			control(t, p, "drop-all", tc.query)
			waitGateway(t, p, gm, ch, tc.disconnect+" connect")
			c.waitState(t, "connected", sm, waitLong)
			if got := c.statesSince(sm); !strings.HasSuffix(got, "connected") || strings.Count(got, "connected") != 1 {
				t.Errorf("states after the drop %q, want one reconnect", got)
			}
			push(t, p, ch, 2)
			c.waitSeq(t, 2)
			c.stop(t)
			if got := c.received(); !slices.Equal(got, []int{1, 2}) {
				t.Errorf("received %v, want [1 2]", got)
			}
		})
	}

	// Outages: the gateway stops accepting, its connections drop; listen
	// retries until it accepts again. A refused TCP connect costs no token
	// (the client probes first); refused handshakes (503) cost at most the
	// first one.
	for _, tc := range []struct {
		name, query, refused string
		maxTokens            int
	}{
		{"stop-accepting", "", "", 1},
		// Once a handshake got 503, the client knocks without a token
		// before spending one: the gateway, back, refuses that with 403.
		{"stop-accepting-503", "mode=503", `( refuse\(503\))+( refuse\(403\))?`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := tc.name
			c := listenConnected(t, p, ch)
			gm, sm, dm := gwMark(t, p), c.mark(), djangoMark(t, p)
			control(t, p, "stop-accepting", tc.query)
			control(t, p, "drop-all", "")
			waitGateway(t, p, gm, ch, `disconnect\(1006,drop-all\)`+tc.refused)
			// At least one attempt failed against the closed gateway.
			c.waitFor(t, "a failed attempt", waitLong, func() bool {
				for _, e := range c.states[sm:] {
					if e.State == "waiting" && e.Attempt > 0 && !strings.HasPrefix(e.Err, "connection lost") {
						return true
					}
				}
				return false
			})
			control(t, p, "start-accepting", "")
			c.waitState(t, "connected", sm, waitLong)
			waitGateway(t, p, gm, ch, `disconnect\(1006,drop-all\)`+tc.refused+" connect")
			push(t, p, ch, 1)
			c.waitSeq(t, 1)
			c.stop(t)
			tokens := requests(t, p, dm, "POST", "/api/ws-token/", 200)
			if tokens < 1 || tokens > tc.maxTokens {
				t.Errorf("%d tokens spent through the outage, want 1..%d", tokens, tc.maxTokens)
			}
			t.Logf("states %s; tokens %d", c.stateString(), tokens)
		})
	}

	// The site forgets the session (expiry, sign-out elsewhere): with a
	// password, listen signs in again by itself on its next connect.
	t.Run("session-expired-password", func(t *testing.T) {
		ch := "expired-pw"
		c := listenConnected(t, p, ch)
		endSessions(t, p)
		gm, sm, dm := gwMark(t, p), c.mark(), djangoMark(t, p)
		control(t, p, "drop-all", "")
		c.waitState(t, "connected", sm, waitLong)
		waitGateway(t, p, gm, ch, `disconnect\(1006,drop-all\) connect`)
		push(t, p, ch, 1)
		c.waitSeq(t, 1)
		c.stop(t)
		got := [3]int{
			requests(t, p, dm, "POST", "/api/ws-token/", 403),
			requests(t, p, dm, "POST", "/accounts/login/", 302),
			requests(t, p, dm, "POST", "/api/ws-token/", 200),
		}
		if got != [3]int{1, 1, 1} {
			t.Errorf("token refused, sign-ins, tokens = %v, want [1 1 1]", got)
		}
		if strings.Contains(c.statesSince(0), "signed-out") {
			t.Errorf("states %q: signed out although it had a password", c.statesSince(0))
		}
	})

	// With a pasted session and no password there is nothing to sign in
	// with: listen says signed-out and exits, after one token request.
	t.Run("session-expired-pasted", func(t *testing.T) {
		ch := "expired-pasted"
		sid, csrf := login(t, p, realpeer.User, realpeer.Password)
		gm := gwMark(t, p)
		c := startListen(t, []string{"--site", p.SiteURL, "--ws", p.WSURL, "--channel", ch},
			"TOASTTRAY_SESSIONID="+sid, "TOASTTRAY_CSRFTOKEN="+csrf)
		c.waitState(t, "connected", 0, waitLong)
		waitGateway(t, p, gm, ch, "connect")
		endSessions(t, p)
		dm := djangoMark(t, p)
		control(t, p, "drop-all", "")
		select {
		case <-c.done:
		case <-time.After(waitLong):
			t.Fatal("listen did not give up after the session ended")
		}
		var ee *exec.ExitError
		if !errors.As(c.err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("listen exited with %v, want status 1", c.err)
		}
		if last := c.last(); last.State != "signed-out" {
			t.Errorf("last state %+v, want signed-out", last)
		}
		if n := requests(t, p, dm, "POST", "/api/ws-token/", 403); n != 1 {
			t.Errorf("%d refused token requests, want 1", n)
		}
		if n := requests(t, p, dm, "POST", "/accounts/login/", 302); n != 0 {
			t.Errorf("%d sign-ins without a password", n)
		}
	})
}

// Two users on one IP (every local client is 127.0.0.1): both connect, each
// gets only its own channel's toasts, before and after a drop of both.
func TestTwoUsers(t *testing.T) {
	t.Parallel()
	p := startPeer(t, realpeer.Options{ExtraUsers: 1})
	alice := listenConnected(t, p, "alice-ch")
	gm := gwMark(t, p)
	user1 := startListen(t, connArgs(p, "user1-ch", "user1"), "TOASTTRAY_PASSWORD=user1-pass")
	user1.waitState(t, "connected", 0, waitLong)
	waitGateway(t, p, gm, "user1-ch", "connect")
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := p.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	push(t, p, "alice-ch", 1)
	push(t, p, "user1-ch", 2)
	alice.waitSeq(t, 1)
	user1.waitSeq(t, 2)

	am, um := alice.mark(), user1.mark()
	control(t, p, "drop-all", "")
	alice.waitState(t, "connected", am, waitLong)
	user1.waitState(t, "connected", um, waitLong)
	if err := p.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	push(t, p, "alice-ch", 3)
	push(t, p, "user1-ch", 4)
	alice.waitSeq(t, 3)
	user1.waitSeq(t, 4)
	alice.stop(t)
	user1.stop(t)
	if a, u := alice.received(), user1.received(); !slices.Equal(a, []int{1, 3}) || !slices.Equal(u, []int{2, 4}) {
		t.Errorf("alice received %v (want [1 3]), user1 %v (want [2 4])", a, u)
	}
}

// The package's token limit (3 a minute here): after three quick drops the
// fourth token is refused; listen shows rate-limited, not signed-out, asks
// for no token while the minute runs, then connects again by itself.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	p := startPeer(t, realpeer.Options{TokenRate: 3})
	ch := "limited"
	c := listenConnected(t, p, ch) // token 1
	for range 2 {                  // tokens 2 and 3
		gm, sm := gwMark(t, p), c.mark()
		control(t, p, "drop-all", "")
		c.waitState(t, "connected", sm, waitLong)
		waitGateway(t, p, gm, ch, `disconnect\(1006,drop-all\) connect`)
	}
	sm := c.mark()
	control(t, p, "drop-all", "")
	c.waitState(t, "rate-limited", sm, waitLong)
	limited := c.last()
	// The window is a minute; the client waits a minute and some jitter.
	c.waitState(t, "connected", sm, 4*time.Minute)
	push(t, p, ch, 1)
	c.waitSeq(t, 1)
	c.stop(t)
	if got := c.statesSince(0); strings.Contains(got, "signed-out") {
		t.Errorf("states %q: a rate limit taken for a sign-out", got)
	}
	if !strings.Contains(limited.Err, "too many requests") {
		t.Errorf("rate-limited state says %q", limited.Err)
	}
	refused := requests(t, p, 0, "POST", "/api/ws-token/", 403)
	tokens := requests(t, p, 0, "POST", "/api/ws-token/", 200)
	if refused != 1 || tokens != 4 {
		t.Errorf("token requests: %d refused, %d granted; want 1 refused (none while waiting), 4 granted", refused, tokens)
	}
	t.Logf("states %s", c.stateString())
}
