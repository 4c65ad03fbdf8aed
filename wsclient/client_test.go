package wsclient_test

import (
	"context"
	"testing"

	"github.com/toasttray/toasttray/wsclient"
)

// TestFreshTokenPerReconnect: every attempt spends a new token and the
// server never sees one reused.
func TestFreshTokenPerReconnect(t *testing.T) {
	h := newHarness(t, setup{})
	h.start()
	h.waitState(wsclient.StateConnected)
	h.srv.Push("default", toast(1))
	if got := msgN(t, h.waitMsg()); got != 1 {
		t.Fatalf("got message %d", got)
	}
	for i := 0; i < 3; i++ {
		h.srv.ResetAll()
		w := h.waitState(wsclient.StateWaiting)
		if w.Until.Sub(h.clk.Now()) <= 0 {
			t.Fatalf("no backoff after a drop: %+v", w)
		}
		h.advanceTo(w.Until)
		h.waitState(wsclient.StateConnected)
	}
	c := h.srv.Counters()
	if c.TokensIssued != 4 || c.Refused("reused") != 0 || c.Connects != 4 {
		t.Fatalf("counters %+v", c)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := h.client.Status(); st.State != wsclient.StateStopped {
		t.Fatalf("status after stop %+v", st)
	}
}

// TestNoIdleHTTPConnection: once connected, the client keeps no idle
// keep-alive connection to the site; the next token is an hour away.
func TestNoIdleHTTPConnection(t *testing.T) {
	h := newHarness(t, setup{})
	h.start()
	h.waitState(wsclient.StateConnected)
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	if err := h.srv.WaitFor(ctx, func() bool { return h.srv.NumHTTPConnections() == 0 }); err != nil {
		t.Fatalf("%d HTTP connections still open after connecting: %v", h.srv.NumHTTPConnections(), err)
	}
	if n := h.srv.NumConnections(); n != 1 {
		t.Fatalf("%d WebSocket connections, want 1", n)
	}
}
