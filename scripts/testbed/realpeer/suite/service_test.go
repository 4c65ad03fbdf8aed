//go:build realpeer

package suite

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/scripts/testbed/realpeer"
)

// The tray's service in-process (settings, credentials, notifier): toast,
// drops with and without close frames, an expired session.
func TestService(t *testing.T) {
	t.Parallel()
	p := startPeer(t, realpeer.Options{})
	ch := "service"
	gm := gwMark(t, p)
	s := startService(t, p, ch, realpeer.User, realpeer.Password)
	s.waitState(t, "connected", 0, waitLong)
	waitGateway(t, p, gm, ch, "connect")
	push(t, p, ch, 1)
	s.waitSeq(t, 1)
	s.waitFor(t, "a popup", waitLong, func() bool { return s.popups == 1 })

	seq := 1
	for _, tc := range []struct{ name, query, disconnect string }{
		{"drop-abrupt", "", `disconnect\(1006,drop-all\)`},
		{"drop-close-1001", "mode=close&code=1001", `disconnect\(1001,drop-all\)`},
		{"drop-close-1012", "mode=close&code=1012", `disconnect\(1012,drop-all\)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gm := gwMark(t, p)
			control(t, p, "drop-all", tc.query)
			waitGateway(t, p, gm, ch, tc.disconnect+" connect")
			s.waitLast(t, "connected")
			seq++
			push(t, p, ch, seq)
			s.waitSeq(t, seq)
		})
	}

	t.Run("session-expired", func(t *testing.T) {
		endSessions(t, p)
		gm, dm := gwMark(t, p), djangoMark(t, p)
		control(t, p, "drop-all", "")
		waitGateway(t, p, gm, ch, `disconnect\(1006,drop-all\) connect`)
		s.waitLast(t, "connected")
		seq++
		push(t, p, ch, seq)
		s.waitSeq(t, seq)
		if n := requests(t, p, dm, "POST", "/accounts/login/", 302); n != 1 {
			t.Errorf("%d sign-ins after the session ended, want 1", n)
		}
		if err := s.svc.Err(); err != nil {
			t.Errorf("service error %v", err)
		}
	})

	want := []int{1, 2, 3, 4, 5}
	if got := s.received(); !slices.Equal(got, want[:seq]) {
		t.Errorf("received %v, want %v", got, want[:seq])
	}
	s.waitFor(t, "a popup per toast", waitLong, func() bool { return s.popups == seq })
	if strings.Contains(s.statesSince(0), "signed-out") {
		t.Errorf("states %q", s.statesSince(0))
	}
}

// blackholeAfter is how long a connection is up before the black hole: the
// client holds a peer to a pong deadline only after it has answered a ping
// on that connection, and the first ping goes out on connect, so its pong
// (a loopback round trip) is in well before this.
const blackholeAfter = 5 * time.Second

// A gateway black-holed soon after the connect (nothing read, pings
// unanswered): listen notices by the missed pong, and once the gateway is back its connection is
// replaced and toasts flow again.
func TestBlackhole(t *testing.T) {
	t.Parallel()
	p := startPeer(t, realpeer.Options{})
	ch := "blackhole"
	c := listenConnected(t, p, ch)
	time.Sleep(blackholeAfter) // the pong of the ping on connect (see blackholeAfter)
	gm, sm := gwMark(t, p), c.mark()
	control(t, p, "blackhole", "")
	// The next ping 30 s after connecting, its pong deadline 10 s later.
	c.waitFor(t, "the client to give up the black-holed connection", waitLong, func() bool {
		return len(c.states) > sm && c.states[len(c.states)-1].State != "connected"
	})
	control(t, p, "unblackhole", "")
	c.waitState(t, "connected", sm, waitLong)
	// The old connection's end and the new connect, in either order.
	waitGateway(t, p, gm, ch, `(disconnect\([0-9]+,[a-z_]+\) connect|connect disconnect\([0-9]+,[a-z_]+\))`)
	push(t, p, ch, 1)
	c.waitSeq(t, 1)
	c.stop(t)
	t.Logf("states %s", c.stateString())
	if e := c.states[sm]; e.State != "waiting" || !strings.Contains(e.Err, "no answer to a ping") {
		t.Errorf("first state after the black hole %+v, want waiting after a missed pong", e)
	}
}

// A gateway that never answers pings (--ignore-pings) is not taken for a
// dead one: after two ping intervals the connection is the same and
// toasts arrive.
func TestIgnorePings(t *testing.T) {
	t.Parallel()
	p := startPeer(t, realpeer.Options{GatewayArgs: []string{"--ignore-pings"}})
	ch := "ignore-pings"
	c := listenConnected(t, p, ch)
	gm, sm := gwMark(t, p), c.mark()
	// Two pings (30 s, 60 s) and the second's pong wait (10 s) pass: only
	// time shows that nothing happens.
	time.Sleep(75 * time.Second)
	push(t, p, ch, 1)
	c.waitSeq(t, 1)
	if got := c.statesSince(sm); got != "" {
		t.Errorf("states after connecting %q, want none", got)
	}
	evs, err := p.GatewayLog()
	if err != nil {
		t.Fatal(err)
	}
	if got := gwSummary(evs, gm, ch); got != "" {
		t.Errorf("gateway events %q, want none", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if st, err := p.State(ctx); err != nil || st.Connections != 1 {
		t.Errorf("gateway state %+v, %v: want one connection", st, err)
	}
	c.stop(t)
}
