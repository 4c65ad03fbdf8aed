package wsclient_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

func TestCompareIDs(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"9", "10", -1}, {"010", "10", 0}, {"0010", "9", 1}, {"", "0", -1}, {"", "", 0},
		{"b", "a", 1}, {"a10", "a9", -1}, {"10", "9a", -1}, {"00", "0", 0},
	} {
		if got := wsclient.CompareIDs(c.a, c.b); got != c.want {
			t.Errorf("CompareIDs(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestToastIDAndTerminator(t *testing.T) {
	m, _ := wsclient.DecodeMessage([]byte(`{"type":"toast","message":"m","payload":{"id":"0042","catchup":true}}`))
	tt, err := m.Toast()
	if err != nil || tt.ID != "42" || !tt.Catchup {
		t.Fatalf("%+v %v", tt, err)
	}
	m, _ = wsclient.DecodeMessage([]byte(`{"type":"toast","message":"m","id":"a\u0007b","catchup":"yes"}`))
	if tt, _ = m.Toast(); tt.ID != "" || tt.Catchup {
		t.Fatalf("control character kept or loose catchup: %+v", tt)
	}
	m, _ = wsclient.DecodeMessage([]byte(`{"type":"catchup","since":"3","last":"7","count":4}`))
	if term, ok := m.Terminator(); !ok || term != (wsclient.Terminator{Since: "3", Last: "7", Count: 4}) {
		t.Fatalf("%+v %v", term, ok)
	}
}

func catchupSetup(since string) setup {
	return setup{
		srv:  wstest.Options{CatchupHandler: "catchup"},
		cfg:  func(c *wsclient.Config) { c.CatchupHandler = "catchup" },
		opts: func(o *wsclient.Options) { o.CatchupSince = since },
	}
}

// waitType returns the next message of type typ, failing on others.
func (h *harness) waitType(typ string) wsclient.Message {
	h.t.Helper()
	m := h.waitMsg()
	if m.Type != typ {
		h.t.Fatalf("message %s, want type %q", m.Raw, typ)
	}
	return m
}

func (h *harness) received(n int) []wstest.ClientMessage {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	got, err := h.srv.WaitReceived(ctx, n)
	if err != nil {
		h.t.Fatalf("waiting for %d client messages: %v", n, err)
	}
	return got
}

// Every connect asks for what came after the last id delivered; the site
// answers with the backlog, oldest first, then the terminator.
func TestCatchupAfterReconnect(t *testing.T) {
	noLeak(t)
	h := newHarness(t, catchupSetup(""))
	h.start()
	h.waitState(wsclient.StateConnected)
	if got := h.received(1)[0]; got.Handler != "catchup" || got.Params["since"] != "" {
		t.Fatalf("request %+v", got)
	}
	if term, _ := h.waitType("catchup").Terminator(); term.Last != "0" || term.Count != 0 {
		t.Fatalf("terminator %+v", term)
	}
	for i := 1; i <= 2; i++ {
		if _, n := h.srv.SendToast("demo", "", toast(i)); n != 1 {
			t.Fatalf("delivered to %d", n)
		}
		if tt, _ := h.waitType("toast").Toast(); tt.ID == "" || tt.Catchup {
			t.Fatalf("live toast %+v", tt)
		}
	}
	h.srv.ResetAll()
	st := h.waitState(wsclient.StateWaiting)
	for i := 3; i <= 5; i++ {
		h.srv.SendToast("demo", "", toast(i)) // missed
	}
	h.advanceTo(st.Until)
	h.waitState(wsclient.StateConnected)
	if got := h.received(2)[1]; got.Handler != "catchup" || got.Params["since"] != "2" {
		t.Fatalf("request %+v", got)
	}
	for i := 3; i <= 5; i++ {
		m := h.waitType("toast")
		if tt, _ := m.Toast(); !tt.Catchup || msgN(t, m) != i {
			t.Fatalf("catch-up toast %d: %s", i, m.Raw)
		}
	}
	if term, _ := h.waitType("catchup").Terminator(); term.Since != "2" || term.Last != "5" || term.Count != 3 {
		t.Fatalf("terminator %+v", term)
	}
}

// A site that answered catch-up once is held to it: a connection that
// stops answering (deaf) is replaced at the next liveness check, which
// runs every catch-up poll interval (5 minutes without a keepalive).
func TestCatchupDeafConnectionReplaced(t *testing.T) {
	noLeak(t)
	h := newHarness(t, catchupSetup("1"))
	h.srv.SendToast("demo", "", toast(1)) // seen before this Run
	h.start()
	h.waitState(wsclient.StateConnected)
	h.waitType("catchup") // supported; the next check is armed
	conns := h.srv.Connections()
	if err := h.srv.Deafen(conns[0].ID); err != nil {
		t.Fatal(err)
	}
	h.srv.SendToast("demo", "", toast(2)) // lost on the deaf connection
	h.advanceTo(epoch.Add(5 * time.Minute))
	if got := h.received(2)[1]; got.Handler != "catchup" || got.Params["since"] != "1" {
		t.Fatalf("liveness check %+v", got)
	}
	// The deadline is armed before the request is written.
	h.advanceTo(epoch.Add(5*time.Minute + 5*time.Second))
	st := h.waitState(wsclient.StateWaiting)
	if s := h.client.Stats(); s.CatchupTimeout != 1 || st.Attempt != 0 {
		t.Fatalf("stats %+v status %+v", s, st)
	}
	h.advanceTo(st.Until)
	h.waitState(wsclient.StateConnected)
	m := h.waitType("toast") // what the deaf connection missed
	if tt, _ := m.Toast(); !tt.Catchup || tt.ID != "2" {
		t.Fatalf("missed toast %s", m.Raw)
	}
	h.waitType("catchup")
	if c := h.srv.Counters(); c.Connects != 2 {
		t.Fatalf("connects %d", c.Connects)
	}
}

// A deaf connection found at connect time (no answer within 5 s) counts
// as a failed attempt for the backoff.
func TestCatchupNoAnswerAtConnect(t *testing.T) {
	noLeak(t)
	h := newHarness(t, catchupSetup(""))
	h.start()
	h.waitState(wsclient.StateConnected)
	h.waitType("catchup")
	h.advanceTo(epoch.Add(wsclient.DefaultStableAfter)) // a healthy first connection
	h.srv.SetCatchupSilent(true)
	h.client.Reconnect("test")
	h.waitState(wsclient.StateConnected)
	h.received(2)
	h.advanceTo(h.clk.Now().Add(5 * time.Second))
	st := h.waitState(wsclient.StateWaiting)
	if st.Attempt != 1 || h.client.Stats().CatchupTimeout != 1 {
		t.Fatalf("status %+v stats %+v", st, h.client.Stats())
	}
}

// A site that never answers catch-up: nothing changes, no checks, no
// replacement, live toasts flow.
func TestCatchupUnsupportedSiteUnchanged(t *testing.T) {
	noLeak(t)
	s := catchupSetup("")
	s.srv.CatchupHandler = ""
	h := newHarness(t, s)
	h.start()
	h.waitState(wsclient.StateConnected)
	h.received(1)
	h.advanceTo(epoch.Add(5 * time.Second))
	h.advanceTo(epoch.Add(9 * time.Minute)) // past a check, short of the gateway's idle timeout
	h.srv.SendToast("demo", "", toast(1))
	h.waitType("toast")
	if c, n := h.srv.Counters(), len(h.srv.Received()); c.Connects != 1 || n != 1 {
		t.Fatalf("connects %d, client messages %d", c.Connects, n)
	}
}

// With a keepalive, the liveness check takes the keepalive's place: one
// message per keepalive interval, not two.
func TestCatchupReplacesKeepalive(t *testing.T) {
	noLeak(t)
	s := catchupSetup("")
	s.cfg = func(c *wsclient.Config) { c.CatchupHandler, c.KeepaliveHandler = "catchup", "keepalive" }
	h := newHarness(t, s)
	h.start()
	h.waitState(wsclient.StateConnected)
	h.waitType("catchup")
	h.advanceTo(epoch.Add(wsclient.MaxKeepaliveInterval))
	got := h.received(2)
	h.waitType("catchup")
	if got[1].Handler != "catchup" || len(h.srv.Received()) != 2 {
		t.Fatalf("messages %+v", h.srv.Received())
	}
}

// A backlog over the site's cap comes in pages: on "more" the client asks
// again from the page's last id.
func TestCatchupPages(t *testing.T) {
	noLeak(t)
	s := catchupSetup("0")
	s.srv.CatchupMax = 2
	h := newHarness(t, s)
	for i := 1; i <= 5; i++ {
		h.srv.SendToast("demo", "", toast(i))
	}
	h.start()
	h.waitState(wsclient.StateConnected)
	for i := 1; i <= 5; i++ {
		if m := h.waitType("toast"); msgN(t, m) != i {
			t.Fatalf("toast %s, want %d", m.Raw, i)
		}
		if i%2 == 0 {
			if term, _ := h.waitType("catchup").Terminator(); !term.More || term.Last != fmt.Sprint(i) {
				t.Fatalf("page terminator %+v", term)
			}
		}
	}
	if term, _ := h.waitType("catchup").Terminator(); term.More || term.Last != "5" || term.Count != 1 {
		t.Fatalf("last terminator %+v", term)
	}
	var since []any
	for _, m := range h.srv.Received() {
		since = append(since, m.Params["since"])
	}
	if fmt.Sprint(since) != "[0 2 4]" {
		t.Fatalf("requests since %v", since)
	}
}

// Each backlog toast restarts the answer's deadline: a long backlog is
// slow, and every toast of it shows that pushes arrive.
func TestCatchupBacklogRestartsDeadline(t *testing.T) {
	noLeak(t)
	h := newHarness(t, catchupSetup(""))
	h.start()
	h.waitState(wsclient.StateConnected)
	h.waitType("catchup") // the site supports it
	h.advanceTo(epoch.Add(wsclient.DefaultStableAfter))
	h.srv.SetCatchupSilent(true) // the next answer is pushed by hand
	h.client.Reconnect("test")
	h.waitState(wsclient.StateConnected)
	h.received(2)
	start := h.clk.Now()
	h.advanceTo(start.Add(4 * time.Second))
	conns := h.srv.Connections()
	backlog := toast(1)
	backlog["id"], backlog["catchup"] = "1", true
	if err := h.srv.PushTo(conns[len(conns)-1].ID, backlog); err != nil {
		t.Fatal(err)
	}
	h.waitType("toast") // the deadline was restarted before delivery
	for _, d := range h.clk.Deadlines() {
		if d == time.Second {
			t.Fatalf("the first deadline is still armed: %v", h.clk.Deadlines())
		}
	}
	h.advanceTo(start.Add(8 * time.Second)) // past the first deadline
	h.advanceTo(start.Add(9 * time.Second))
	h.waitState(wsclient.StateWaiting)
	if s := h.client.Stats(); s.CatchupTimeout != 1 {
		t.Fatalf("%+v", s)
	}
}

// A live toast that overtakes a paged backlog must not move the next
// page's since past the toasts still to come: the client asks again from
// the page's last, not from its cursor (found on the real package: 430 of
// 680 toasts lost after a 2-minute outage with a toast every 200 ms).
func TestCatchupPagesAfterLiveToast(t *testing.T) {
	noLeak(t)
	s := catchupSetup("0")
	s.srv.CatchupMax = 2
	h := newHarness(t, s)
	for i := 1; i <= 5; i++ {
		h.srv.SendToast("demo", "", toast(i))
	}
	h.srv.SetCatchupSilent(true) // the test answers the first request itself
	h.start()
	h.waitState(wsclient.StateConnected)
	h.received(1)
	if _, n := h.srv.SendToast("demo", "", toast(6)); n != 1 { // live, ahead of the backlog
		t.Fatalf("toast 6 reached %d connections", n)
	}
	if m := h.waitType("toast"); msgN(t, m) != 6 {
		t.Fatalf("toast %s, want 6", m.Raw)
	}
	h.srv.SetCatchupSilent(false)
	id := h.srv.Connections()[0].ID
	for _, v := range []map[string]any{
		{"type": "toast", "id": "1", "level": "info", "message": "m", "n": 1, "catchup": true},
		{"type": "toast", "id": "2", "level": "info", "message": "m", "n": 2, "catchup": true},
		{"type": "catchup", "since": "0", "last": "2", "count": 2, "more": true},
	} {
		if err := h.srv.PushTo(id, v); err != nil {
			t.Fatal(err)
		}
	}
	var got []int
	for len(got) < 5 { // 1, 2, then the emulator's pages: 3, 4, then 5 (and 6 again)
		m := h.waitMsg()
		if m.Type == "toast" {
			got = append(got, msgN(t, m))
		}
	}
	if fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("toasts %v after the live one, want [1 2 3 4 5]", got)
	}
	if since := h.received(2)[1].Params["since"]; since != "2" {
		t.Fatalf("next page since %v, want 2", since)
	}
}

// A connection that dies before its backlog is complete: the next one
// asks from the last backlog toast received, not from a live toast that
// overtook the backlog.
func TestCatchupResumesAfterDropMidBacklog(t *testing.T) {
	noLeak(t)
	h := newHarness(t, catchupSetup("0"))
	for i := 1; i <= 5; i++ {
		h.srv.SendToast("demo", "", toast(i))
	}
	h.srv.SetCatchupSilent(true) // the test answers the first request itself, in part
	h.start()
	h.waitState(wsclient.StateConnected)
	h.received(1)
	h.srv.SendToast("demo", "", toast(6)) // live, ahead of the backlog
	id := h.srv.Connections()[0].ID
	for i := 1; i <= 2; i++ {
		if err := h.srv.PushTo(id, map[string]any{"type": "toast", "id": fmt.Sprint(i), "level": "info", "message": "m", "n": i, "catchup": true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []int{6, 1, 2} {
		if m := h.waitType("toast"); msgN(t, m) != want {
			t.Fatalf("toast %s, want %d", m.Raw, want)
		}
	}
	h.srv.SetCatchupSilent(false)
	h.srv.ResetAll()
	st := h.waitState(wsclient.StateWaiting)
	h.advanceTo(st.Until)
	h.waitState(wsclient.StateConnected)
	if got := h.received(2)[1]; got.Params["since"] != "2" {
		t.Fatalf("request after the drop asked since %v, want 2", got.Params["since"])
	}
	for _, want := range []int{3, 4, 5, 6} {
		if m := h.waitType("toast"); msgN(t, m) != want {
			t.Fatalf("toast %s, want %d", m.Raw, want)
		}
	}
}
