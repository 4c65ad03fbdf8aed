package wsclient_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// TestTokenBudgetUnderReconnectStorm: immediate reconnect requests (a
// flapping network) never make the client exceed its budget, so the site's
// 20-a-minute limit is never hit.
func TestTokenBudgetUnderReconnectStorm(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{})
	var mu sync.Mutex
	var attempts []time.Time
	h.client = mustNew(t, h, func(o *wsclient.Options) {
		o.OnStatus = func(st wsclient.Status) {
			if st.State == wsclient.StateConnecting {
				mu.Lock()
				attempts = append(attempts, h.clk.Now())
				mu.Unlock()
			}
			h.status <- st
		}
	})
	h.start()
	for i := 0; i < 40; i++ {
		select {
		case st := <-h.status:
			switch st.State {
			case wsclient.StateConnected:
				h.client.Reconnect("test storm")
			case wsclient.StateWaiting:
				h.advanceTo(st.Until)
			case wsclient.StateRateLimited:
				t.Fatalf("rate limited by the server: %+v", st)
			}
		case <-time.After(failsafe):
			t.Fatal("stuck")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range attempts {
		n := 0
		for j := i; j < len(attempts) && attempts[j].Sub(attempts[i]) < time.Minute; j++ {
			n++
		}
		if n > 10 {
			t.Fatalf("%d attempts within a minute from %v", n, attempts[i])
		}
	}
	if c := h.srv.Counters(); c.Refused(wstest.ReasonTokenRateLimited) != 0 || c.Refused(wstest.ReasonRateLimitedUser) != 0 {
		t.Fatalf("server refused: %+v", c.Refusals)
	}
}

// mustNew rebuilds h's client with changed options.
func mustNew(t *testing.T, h *harness, mod func(*wsclient.Options)) *wsclient.Client {
	opts := wsclient.Options{
		Clock: h.clk, Rand: func() float64 { return 0.5 }, Watchers: []wsclient.Watcher{},
		OnStatus:  func(st wsclient.Status) { h.status <- st },
		OnMessage: func(m wsclient.Message) { h.msgs <- m },
	}
	mod(&opts)
	c, err := wsclient.New(wsclient.Config{SiteURL: h.srv.URL, WSURL: h.srv.WSURL}, wsclient.Credentials{Username: "demo", Password: "demo"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRateLimitedWaitsOutTheWindow: "Rate limit exceeded" makes the
// client wait at least a minute, so it stays under 20 tokens a minute.
func TestRateLimitedWaitsOutTheWindow(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{})
	h.srv.SetTokenFault(wstest.TokenRateLimited)
	h.start()
	start := h.clk.Now()
	tries := 0
	for h.clk.Now().Sub(start) < 10*time.Minute {
		st := h.waitState(wsclient.StateRateLimited)
		tries++
		if d := st.Until.Sub(h.clk.Now()); d < time.Minute {
			t.Fatalf("rate-limited wait %v < 1m", d)
		}
		if !errors.Is(errors.New(st.Err), wsclient.ErrRateLimited) && st.Err == "" {
			t.Fatalf("no error shown: %+v", st)
		}
		h.advanceTo(st.Until)
	}
	if tries > 10 {
		t.Fatalf("%d token requests in 10 minutes", tries)
	}
	h.srv.SetTokenFault(wstest.TokenOK)
	for {
		select {
		case st := <-h.status:
			switch st.State {
			case wsclient.StateRateLimited:
				h.advanceTo(st.Until)
			case wsclient.StateConnected:
				return
			}
		case <-time.After(failsafe):
			t.Fatal("did not connect after the limit lifted")
		}
	}
}

// TestSignedOutStops: an expired pasted session and no password stops Run
// with ErrSignedOut and no further requests.
func TestSignedOutStops(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{})
	sid, csrf := h.srv.NewSession("demo")
	h.client = mustNewCreds(t, h, wsclient.Credentials{SessionID: sid, CSRFToken: csrf})
	h.start()
	h.waitState(wsclient.StateConnected)
	h.srv.SignOut("demo")
	h.srv.ResetAll()
	st := h.waitState(wsclient.StateWaiting)
	h.advanceTo(st.Until)
	select {
	case err := <-h.done:
		if !errors.Is(err, wsclient.ErrSignedOut) {
			t.Fatalf("Run = %v", err)
		}
		h.done <- err
	case <-time.After(failsafe):
		t.Fatal("Run did not stop")
	}
	if st := h.client.Status(); st.State != wsclient.StateSignedOut || st.Err == "" {
		t.Fatalf("status %+v", st)
	}
	before := h.srv.Counters()
	h.clk.Advance(time.Hour)
	if after := h.srv.Counters(); after.Refused(wstest.ReasonTokenNoAuth) != before.Refused(wstest.ReasonTokenNoAuth) || after.TokensIssued != before.TokensIssued {
		t.Fatal("requests after signed out")
	}
	if before.Refused(wstest.ReasonTokenNoAuth) != 1 {
		t.Fatalf("token requests refused: %d, want 1", before.Refused(wstest.ReasonTokenNoAuth))
	}
}

// TestSignedOutSignsInAgain: with a password, an ended session is renewed
// once and the client reconnects.
func TestSignedOutSignsInAgain(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{})
	h.start()
	h.waitState(wsclient.StateConnected)
	h.srv.SignOut("demo")
	h.srv.ResetAll()
	st := h.waitState(wsclient.StateWaiting)
	h.advanceTo(st.Until)
	h.waitState(wsclient.StateConnected)
	if c := h.srv.Counters(); c.LoginsOK != 2 {
		t.Fatalf("logins %d", c.LoginsOK)
	}
}

func mustNewCreds(t *testing.T, h *harness, creds wsclient.Credentials) *wsclient.Client {
	c, err := wsclient.New(wsclient.Config{SiteURL: h.srv.URL, WSURL: h.srv.WSURL}, creds, wsclient.Options{
		Clock: h.clk, Rand: func() float64 { return 0.5 }, Watchers: []wsclient.Watcher{},
		OnStatus: func(st wsclient.Status) { h.status <- st }, OnMessage: func(m wsclient.Message) { h.msgs <- m },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBlackholeRightAfterConnect: the client pings on connect, so it
// knows from the first second that the peer answers pings, and a link that
// goes silent right after connecting is replaced at the next ping's
// deadline (before, the first ping went out after a whole interval and
// an early blackhole left the client blind for good).
func TestBlackholeRightAfterConnect(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{})
	pong, pongs := signal()
	ping, pings := signal()
	wsclient.SetPongHook(h.client, pong)
	wsclient.SetPingHook(h.client, ping)
	h.start()
	h.waitState(wsclient.StateConnected)
	waitSignal(t, pings, "ping on connect")
	waitSignal(t, pongs, "pong to the ping on connect") // no time has passed
	h.srv.SetBlackhole(true)
	h.clk.Advance(wsclient.DefaultPingInterval)
	waitSignal(t, pings, "second ping")
	h.clk.Advance(wsclient.DefaultPongWait)
	st := h.waitState(wsclient.StateWaiting)
	if h.client.Stats().PongTimeout != 1 {
		t.Fatalf("stats %+v", h.client.Stats())
	}
	h.srv.SetBlackhole(false)
	h.advanceTo(st.Until)
	h.waitState(wsclient.StateConnected)
}

// TestPingIgnoringPeerKept: a gateway that never answers pings is not
// dropped for it.
func TestPingIgnoringPeerKept(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{srv: wstest.Options{IgnorePings: true}})
	ping, pings := signal()
	wsclient.SetPingHook(h.client, ping)
	h.start()
	h.waitState(wsclient.StateConnected)
	waitSignal(t, pings, "ping on connect")
	for i := 0; i < 8; i++ {
		h.clk.Advance(wsclient.DefaultPingInterval)
		waitSignal(t, pings, "ping")
	}
	h.clk.Advance(wsclient.DefaultPongWait)
	h.srv.Push("default", toast(7))
	if n := msgN(t, h.waitMsg()); n != 7 {
		t.Fatalf("message %d", n)
	}
	if c := h.srv.Counters(); c.Connects != 1 || h.client.Stats().PongTimeout != 0 || h.client.Status().State != wsclient.StateConnected {
		t.Fatalf("connection replaced: %+v %+v", c, h.client.Stats())
	}
}

// TestRotationExactlyOnce: a make-before-break rotation while toasts
// stream in loses none and duplicates none.
func TestRotationExactlyOnce(t *testing.T) {
	noLeak(t)
	// delivered tracks which toasts the app got so far, for the wait
	// before the overlap ends (below).
	var dmu sync.Mutex
	delivered := map[int]bool{}
	var h *harness
	h = newHarness(t, setup{
		cfg: func(c *wsclient.Config) { c.RotateAfter = time.Minute },
		opts: func(o *wsclient.Options) {
			o.OnMessage = func(m wsclient.Message) {
				var v struct{ N int }
				_ = json.Unmarshal(m.Raw, &v)
				dmu.Lock()
				delivered[v.N] = true
				dmu.Unlock()
				h.msgs <- m
			}
		},
	})
	gone, gones := signal()
	wsclient.SetOldGoneHook(h.client, gone)
	switched, switches := signal()
	wsclient.SetSwitchedHook(h.client, switched)
	h.start()
	h.waitState(wsclient.StateConnected)
	stopPush := make(chan struct{})
	pushed := make(chan int, 1)
	var pushedSoFar atomic.Int64
	go func() {
		n := 0
		defer func() { pushed <- n }()
		for {
			select {
			case <-stopPush:
				return
			default:
			}
			// The emulator's per-connection queue holds 256: keep
			// fewer than that in flight.
			for int(h.client.Stats().Delivered) < n-100 {
				select {
				case <-stopPush:
					return
				default:
					runtime.Gosched()
				}
			}
			n++
			if h.srv.Push("default", toast(n)) == 0 {
				t.Errorf("push %d reached no connection", n)
			}
			pushedSoFar.Store(int64(n))
		}
	}()
	h.clk.Advance(time.Minute)
	waitSignal(t, switches, "rotation switch")
	// Both connections receive during the overlap; push on for a while.
	for n := int(h.client.Stats().Delivered); int(h.client.Stats().Delivered) < n+200; {
		runtime.Gosched()
	}
	// The overlap is 3 s on the client's clock, which the test moves at
	// once; the gateway drops what it still queued for the old connection
	// when that closes. So, as 3 real seconds would, let the old one hand
	// over every toast pushed before the switch (some were queued for it
	// alone) before ending the overlap.
	upTo := int(pushedSoFar.Load())
	for deadline := time.Now().Add(failsafe); ; runtime.Gosched() {
		dmu.Lock()
		missing := 0
		for i := 1; i <= upTo; i++ {
			if !delivered[i] {
				missing++
			}
		}
		dmu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the %d toasts pushed before the switch not delivered during the overlap", missing, upTo)
		}
	}
	h.clk.Advance(wsclient.RotateOverlap)
	waitSignal(t, gones, "old connection closed")
	close(stopPush)
	last := <-pushed
	h.srv.Push("default", toast(last+1))
	seen := map[int]int{}
	for {
		n := msgN(t, h.waitMsg())
		seen[n]++
		if n == last+1 {
			break
		}
	}
	for i := 1; i <= last+1; i++ {
		if seen[i] != 1 {
			t.Fatalf("message %d delivered %d times (of %d)", i, seen[i], last+1)
		}
	}
	if c := h.srv.Counters(); c.Connects != 2 || c.TokensIssued != 2 || h.client.Stats().Rotations != 1 {
		t.Fatalf("counters %+v stats %+v", c, h.client.Stats())
	}
	t.Logf("%d toasts, %d duplicates dropped", last+1, h.client.Stats().Duplicates)
}

// rotationPair rotates h's client once and returns the old and the new
// connection's IDs; frames signals each frame the client took.
func rotationPair(t *testing.T, h *harness) (oldID, newID string, frames, gones chan struct{}) {
	t.Helper()
	frame, frames := signal()
	wsclient.SetFrameHook(h.client, frame)
	gone, gones := signal()
	wsclient.SetOldGoneHook(h.client, gone)
	switched, switches := signal()
	wsclient.SetSwitchedHook(h.client, switched)
	h.start()
	h.waitState(wsclient.StateConnected)
	oldID = h.srv.Connections()[0].ID
	h.clk.Advance(time.Minute)
	waitSignal(t, switches, "rotation switch")
	for _, ci := range h.srv.Connections() {
		if ci.ID != oldID {
			newID = ci.ID
		}
	}
	if newID == "" {
		t.Fatalf("connections %+v: no new one", h.srv.Connections())
	}
	return oldID, newID, frames, gones
}

// TestRotationKeepsOrder: what the old connection still holds from before
// the new one existed is delivered before what the new one already has
// (S08 saw toasts out of order when the old connection lagged).
func TestRotationKeepsOrder(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{cfg: func(c *wsclient.Config) { c.RotateAfter = time.Minute }})
	oldID, newID, frames, _ := rotationPair(t, h)
	// Toast 2 reaches the new connection while toast 1, pushed before the
	// new connection existed, is still on its way over the old one.
	if err := h.srv.PushTo(newID, toast(2)); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, frames, "frame from the new connection")
	for _, n := range []int{1, 2} {
		if err := h.srv.PushTo(oldID, toast(n)); err != nil {
			t.Fatal(err)
		}
	}
	if h.srv.Push("default", toast(3)) != 2 {
		t.Fatal("toast 3 did not reach both connections")
	}
	var got []int
	for len(got) == 0 || got[len(got)-1] != 3 {
		got = append(got, msgN(t, h.waitMsg()))
	}
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("delivered %v, want [1 2 3]", got)
	}
}

// TestRotationReleasesHeldOnClose: what only the new connection received
// while the old one said nothing is delivered once the old one is closed.
func TestRotationReleasesHeldOnClose(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{cfg: func(c *wsclient.Config) { c.RotateAfter = time.Minute }})
	_, newID, frames, gones := rotationPair(t, h)
	if err := h.srv.PushTo(newID, toast(1)); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, frames, "frame from the new connection")
	h.clk.Advance(wsclient.RotateOverlap)
	waitSignal(t, gones, "old connection closed")
	if n := msgN(t, h.waitMsg()); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
}

// TestWakeReplacesConnection: a wall-clock jump replaces the connection at
// once, without backoff.
func TestWakeReplacesConnection(t *testing.T) {
	noLeak(t)
	wake := clock.NewFake(epoch)
	h := newHarness(t, setup{opts: func(o *wsclient.Options) {
		o.Watchers = []wsclient.Watcher{wsclient.WakeWatcher(wake, 10*time.Second, 20*time.Second)}
	}})
	h.start()
	h.waitState(wsclient.StateConnected)
	wake.BlockUntil(1, nil)
	wake.Advance(10 * time.Second) // a normal tick: nothing happens
	wake.Advance(10 * time.Minute) // slept
	h.waitState(wsclient.StateConnecting)
	h.waitState(wsclient.StateConnected)
	if c := h.srv.Counters(); c.Connects != 2 || c.TokensIssued != 2 {
		t.Fatalf("counters %+v", c)
	}
}

func TestWakeWatcher(t *testing.T) {
	clk := clock.NewFake(epoch)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		wsclient.WakeWatcher(clk, 10*time.Second, 20*time.Second)(ctx, func(r string) { got <- r })()
	}()
	clk.BlockUntil(1, nil)
	// Each look re-arms the watcher's timer: waiting for it after every
	// step makes the watcher see each step (it once saw five at once, 50 s,
	// and reported a wake on a loaded CI machine).
	for i := 0; i < 5; i++ {
		clk.Advance(10 * time.Second)
		clk.BlockUntil(1, nil)
	}
	clk.Advance(25 * time.Second) // late, under the slack
	clk.BlockUntil(1, nil)
	select {
	case r := <-got:
		t.Fatalf("false wake: %s", r)
	default:
	}
	clk.Advance(2 * time.Minute)
	select {
	case <-got:
	case <-time.After(failsafe):
		t.Fatal("no wake reported")
	}
	cancel()
	<-done
}

// TestKeepalive: with a handler configured, an application message goes
// out before the gateway's 10-minute idle timeout.
func TestKeepalive(t *testing.T) {
	noLeak(t)
	// Pings off: big fake-clock jumps would outrun real pongs.
	h := newHarness(t, setup{cfg: func(c *wsclient.Config) { c.KeepaliveHandler, c.PingInterval = "keepalive", time.Hour }})
	h.start()
	h.waitState(wsclient.StateConnected)
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	for i := 1; i <= 3; i++ {
		h.clk.Advance(wsclient.MaxKeepaliveInterval)
		got, err := h.srv.WaitReceived(ctx, i)
		if err != nil || got[i-1].Handler != "keepalive" {
			t.Fatalf("keepalive %d: %v %+v", i, err, got)
		}
	}
	if c := h.srv.Counters(); c.Connects != 1 {
		t.Fatalf("idle timeout fired: %+v", c)
	}
}

// TestCancelDuringDial: Run returns promptly when cancelled while the
// token request or the handshake hangs.
func TestCancelDuringDial(t *testing.T) {
	for _, fault := range []string{"token", "handshake"} {
		t.Run(fault, func(t *testing.T) {
			noLeak(t)
			var s setup
			var held chan net.Conn
			if fault == "handshake" {
				// A gateway that takes the handshake and never answers:
				// cancel once the client's request is in and unanswered.
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				held = make(chan net.Conn, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						close(held)
						return
					}
					if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
						c.Close()
						close(held)
						return
					}
					held <- c
				}()
				s.cfg = func(c *wsclient.Config) { c.WSURL = "ws://" + ln.Addr().String() + "/prod" }
			}
			h := newHarness(t, s)
			if fault == "token" {
				h.srv.SetTokenFault(wstest.TokenSlow)
			}
			h.start()
			h.waitState(wsclient.StateConnecting)
			if fault == "handshake" {
				select {
				case c, ok := <-held:
					if !ok {
						t.Fatal("no handshake request")
					}
					defer c.Close()
				case <-time.After(failsafe):
					t.Fatal("no handshake request")
				}
			}
			start := time.Now()
			if err := h.stop(); err != nil {
				t.Fatalf("Run = %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("Run took %v to return", d)
			}
			h.srv.SetTokenFault(wstest.TokenOK)
		})
	}
}
