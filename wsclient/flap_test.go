package wsclient_test

import (
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// flap runs a peer whose link drops abruptly (reset, no close frame) each
// time a connection has been up for `up` of fake time, for `span` of fake
// time. It returns each wait the client announced after a drop and the
// fake times of its connects (one token each).
func flap(t *testing.T, up, span time.Duration) (waits []time.Duration, connects []time.Time) {
	t.Helper()
	noLeak(t)
	h := newHarness(t, setup{})
	h.start()
	end := epoch.Add(span)
	for h.clk.Now().Before(end) {
		st := <-h.status
		switch st.State {
		case wsclient.StateConnected:
			connects = append(connects, h.clk.Now())
			h.clk.Advance(up)
			// The emulator may still list the connection reset before.
			if h.srv.ResetAll() == 0 {
				t.Fatalf("no connection to reset at %v", h.clk.Now().Sub(epoch))
			}
		case wsclient.StateWaiting:
			waits = append(waits, st.Until.Sub(h.clk.Now()))
			h.advanceTo(st.Until)
		case wsclient.StateRateLimited, wsclient.StateStopped, wsclient.StateSignedOut:
			t.Fatalf("status %+v", st)
		}
	}
	if c := h.srv.Counters(); c.TokensIssued != len(connects) || c.Refused(wstest.ReasonTokenRateLimited) != 0 {
		t.Fatalf("%d tokens for %d connects; counters %+v", c.TokensIssued, len(connects), c)
	}
	return waits, connects
}

// maxPerMinute is the most connects in any minute (sliding).
func maxPerMinute(ts []time.Time) int {
	most := 0
	for i := range ts {
		n := 0
		for j := i; j < len(ts) && ts[j].Sub(ts[i]) < time.Minute; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

// TestFlappingLinkReconnectsFast: a link that works for 8 s at a time is
// not treated like a server that refuses: the first retry comes within a
// base period and the waits stay within the flap window (4 s), where the
// refused-attempt backoff grew to 30 s.
func TestFlappingLinkReconnectsFast(t *testing.T) {
	waits, connects := flap(t, 8*time.Second, 5*time.Minute)
	if len(waits) < 20 {
		t.Fatalf("only %d drops in 5 minutes", len(waits))
	}
	base := wsclient.DefaultBackoffBase
	if waits[0] >= base {
		t.Errorf("first retry after %v, want under %v", waits[0], base)
	}
	for i, w := range waits {
		if w >= 8*base {
			t.Errorf("drop %d: waited %v, want under %v", i+1, w, 8*base)
		}
	}
	if n := maxPerMinute(connects); n > 10 {
		t.Errorf("%d tokens in one minute; the budget is 10", n)
	}
	t.Logf("waits %v; at most %d tokens a minute", waits, maxPerMinute(connects))
}

// TestFastFlapStaysInBudget: a link that drops after 2 s every time would
// take a token every 4 s; the client never takes more than 10 a minute
// and keeps coming back.
func TestFastFlapStaysInBudget(t *testing.T) {
	_, connects := flap(t, 2*time.Second, 5*time.Minute)
	if n := maxPerMinute(connects); n != 10 {
		t.Errorf("at most %d tokens in a minute, want exactly the budget (10)", n)
	}
	if len(connects) < 45 {
		t.Errorf("%d connects in 5 minutes; want the budget used (about 50)", len(connects))
	}
}
