//go:build scenario

package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// ------------------------------------------------------------------ fleet

// TestFleet: many desktops behind one office NAT, each its own user,
// against the real default limits (20 tokens and 20 connects a minute per
// user); the per-IP connect limit is raised to 20 per desktop, as a site
// serving an office must. The server restarts (every connection closed
// with 1012), then the network blips (every connection reset).
func TestFleet(t *testing.T) {
	n := *fleetN
	if n == 0 {
		n = pick(200, 1000)
	}
	e := newEnv(t, fmt.Sprintf("Fleet %d clients", n), envOpts{n: n, session: true, sample: 100 * time.Millisecond,
		srv: wstest.Options{ConnectRateLimitPerIP: 20 * n},
		// A connection counts as healthy after 2 s instead of 10 s, so the
		// fleet's connections are "up a while" when the restart comes, as
		// in an office, without waiting 10 s per phase.
		cfg: func(_ int, c *wsclient.Config) { c.StableAfter = 2 * time.Second }})
	// The first connect of the whole fleet is a herd too.
	var first []time.Duration
	for _, p := range e.probes {
		at, _ := p.connectedSince(e.start)
		first = append(first, at.Sub(e.start))
	}
	e.note("initial_connect_ms", dist(first))
	e.traffic(5, 2500*time.Millisecond)

	for _, phase := range []string{"restart-1012", "reset"} {
		e.mark()
		t0 := time.Now()
		if phase == "reset" {
			e.srv.ResetAll()
		} else {
			e.srv.DropAll(websocket.CloseServiceRestart)
		}
		rec := e.waitReconnected(t0)
		e.traffic(5, 2500*time.Millisecond) // also makes the connections healthy for the next phase
		tokens, reqs, conns := e.spent()
		c := e.srv.Counters()
		d := dist(rec)
		if phase == "restart-1012" {
			e.res.RecoverMS = d
		}
		perConnect := float64(reqs) / float64(max(conns, 1))
		maxShare, within5 := herdShape(rec)
		lockedOut := c.Refused(wstest.ReasonRateLimitedIP) + c.Refused(wstest.ReasonRateLimitedUser) + c.Refused(wstest.ReasonTokenRateLimited)
		e.note(phase, map[string]any{
			"recover_ms": d, "histogram": histogram(rec), "token_requests_per_connect": round1(perConnect*100) / 100,
			"tokens": tokens, "connects": conns, "max_share_in_1s_window": round1(maxShare*1000) / 10, "back_within_5s_pct": round1(within5 * 100),
			"rate_limit_refusals": lockedOut,
		})
		e.check(perConnect <= 1.1, "%s: %.2f token requests per successful connect (max 1.1)", phase, perConnect)
		e.check(lockedOut == 0, "%s: %d rate-limit refusals: clients locked out", phase, lockedOut)
		// Issue 4's herd target is for a server restart (close frames).
		// Abrupt resets are treated as this machine's own network trouble
		// and retried within 2 s; reported, not asserted.
		e.check(maxShare <= 0.35 || phase == "reset", "%s: %.0f%% of the fleet connected within one second (max 35%%)", phase, maxShare*100)
		e.check(within5 >= 0.95 || phase == "reset", "%s: only %.0f%% back within 5 s", phase, within5*100)
	}
}

// herdShape returns the largest share of reconnects in any 1-second
// window (sliding, 10 ms steps) and the share back within 5 s.
func herdShape(rec []time.Duration) (maxShare, within5 float64) {
	s := slices.Clone(rec)
	slices.Sort(s)
	j := 0
	best := 0
	for i := range s {
		for s[i]-s[j] >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	n5 := sort.Search(len(s), func(i int) bool { return s[i] > 5*time.Second })
	return float64(best) / float64(len(s)), float64(n5) / float64(len(s))
}

// histogram counts reconnect times in 500 ms buckets ("0.0-0.5s": n).
func histogram(rec []time.Duration) []string {
	const w = 500 * time.Millisecond
	var counts []int
	for _, d := range rec {
		b := int(d / w)
		for len(counts) <= b {
			counts = append(counts, 0)
		}
		counts[b]++
	}
	out := make([]string, len(counts))
	for i, c := range counts {
		out[i] = fmt.Sprintf("%.1f-%.1fs: %d", float64(i)*w.Seconds(), float64(i+1)*w.Seconds(), c)
	}
	return out
}

// ------------------------------------------------------------------ soak

// TestSoak: 50 clients through a time-scaled day. The gateway's limits are
// divided by 240 (2 h maximum duration → 30 s, 10 min idle → 2.5 s), so a
// 6-minute run is a day of rotations; between traffic bursts (a toast per
// client every 100 ms) a random fault hits. Every toast the server accepts
// for a client must arrive once; heap and goroutines must stay flat.
func TestSoak(t *testing.T) {
	run := *soakFor
	if run == 0 {
		run = pick(60*time.Second, 6*time.Minute)
	}
	const n = 50
	const scale = 240
	e := newEnv(t, fmt.Sprintf("Soak %d clients %s", n, run), envOpts{n: n, sample: 100 * time.Millisecond, limit: run + failsafe,
		srv: wstest.Options{ConnectRateLimitPerIP: 20 * n, MaxDuration: 2 * time.Hour / scale, IdleTimeout: 10 * time.Minute / scale},
		cfg: func(_ int, c *wsclient.Config) {
			// Rotation after 12 s of the scaled 30 s: early enough to happen
			// between faults, and 5 a minute stays under the client's own
			// (unscaled) budget of 10 tokens a minute.
			c.RotateAfter = 12 * time.Second
			c.KeepaliveHandler = "keepalive"
			c.KeepaliveInterval = 9 * time.Minute / scale
			c.PingInterval, c.PongWait = 2*time.Second, time.Second
			c.HandshakeTimeout = 3 * time.Second
			c.StableAfter = time.Second
		}})
	faults := []string{"rest", "drop-1012", "drop-1011", "reset", "drop-one", "token-500", "gateway-down", "blackhole"}
	count := map[string]int{}
	var heap []float64
	var gors, conns []int
	var rec []time.Duration
	noConn, cycle := 0, 0
	deadline := time.Now().Add(run)
	hc := e.srv.Client()
	for time.Now().Before(deadline) {
		// Traffic.
		tick := time.NewTicker(100 * time.Millisecond)
		for k := 0; k < 50; k++ {
			for _, p := range e.probes {
				if !e.push(p, "") {
					noConn++
				}
			}
			<-tick.C
		}
		tick.Stop()
		e.waitDelivered()
		e.compact()
		t.Logf("%5.1fs: traffic done (%d toasts so far)", time.Since(e.start).Seconds(), e.res.Pushed)
		// Sample between rotations: a client in a rotation's overlap
		// holds two connections (3 goroutines more in this process, with
		// the emulator's), which is no leak. Rotations come in waves
		// (clients reconnect together after a fault), overlaps last 3 s:
		// wait, bounded, until every client holds exactly one. A client
		// that keeps two for good still shows, in the count.
		qctx, qcancel := context.WithTimeout(e.ctx, 10*time.Second)
		_ = e.srv.WaitFor(qctx, func() bool { return e.srv.NumConnections() == n })
		qcancel()
		conns = append(conns, e.srv.NumConnections())
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = append(heap, float64(ms.HeapAlloc)/(1<<20))
		gors = append(gors, runtime.NumGoroutine())
		// A fault every other burst, so connections also live long enough
		// to rotate.
		f := "rest"
		if cycle++; cycle%2 == 0 {
			f = faults[rand.IntN(len(faults))]
		}
		count[f]++
		t0 := time.Now()
		var dropped string // drop-one: the connection deleted
		switch f {
		case "rest":
			continue
		case "drop-1012":
			e.srv.DropAll(websocket.CloseServiceRestart)
		case "drop-1011":
			e.srv.DropAll(websocket.CloseInternalServerErr)
		case "reset":
			e.srv.ResetAll()
		case "drop-one":
			conns := e.srv.Connections()
			c := conns[rand.IntN(len(conns))]
			dropped = c.ID
			req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/"+e.srv.Stage()+"/@connections/"+c.ID, nil)
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
			}
		case "token-500":
			e.srv.SetTokenFault(wstest.TokenError500)
			e.srv.DropAll(websocket.CloseInternalServerErr)
			e.after(2 * time.Second)
			e.srv.SetTokenFault(wstest.TokenOK)
		case "gateway-down":
			e.srv.SetAccepting(false)
			e.srv.ResetAll()
			e.after(3 * time.Second)
			e.srv.SetAccepting(true)
		case "blackhole":
			e.srv.SetBlackhole(true)
			e.after(3 * time.Second)
			e.srv.SetBlackhole(false)
		}
		if f == "drop-one" {
			// Its client still says Connected until the close reaches
			// it: wait until the server has let go of the connection
			// and every client holds one again.
			e.must(e.srv.WaitFor(e.ctx, func() bool { return e.allHeldBut(dropped) }), "waiting for the reconnect after drop-one")
			e.waitConnected(e.probes...)
			t.Logf("%5.1fs: %s: all back", time.Since(e.start).Seconds(), f)
			continue
		}
		r := e.waitReconnected(t0)
		rec = append(rec, r...)
		t.Logf("%5.1fs: %s: all back, slowest after %s", time.Since(e.start).Seconds(), f, slices.Max(r).Round(time.Millisecond))
	}
	e.spent()
	st := e.statsSum()
	e.res.RecoverMS = dist(rec)
	third := max(1, len(heap)/3)
	early, late := median(heap[:third]), median(heap[len(heap)-third:])
	gEarly, gLate := slices.Max(gors[:third]), slices.Max(gors[len(gors)-third:])
	e.note("faults", count)
	e.note("rotations", st.Rotations)
	e.note("pushes_without_connection", noConn)
	e.note("heap_mb_after_gc_first_third_median", round1(early))
	e.note("heap_mb_after_gc_last_third_median", round1(late))
	e.note("goroutines_first_third_max", gEarly)
	e.note("goroutines_last_third_max", gLate)
	e.note("heap_series_mb", roundAll(heap))
	e.note("goroutine_series", gors)
	e.note("connections_at_samples", conns)
	e.note("emulator_client_messages_kept", len(e.srv.Received()))
	e.check(noConn == 0, "%d toasts found a client without a connection during traffic", noConn)
	e.check(late <= early*1.5+4, "heap grew from %.1f MB to %.1f MB", early, late)
	e.check(gLate <= gEarly+n/5, "goroutines grew from %d to %d", gEarly, gLate)
	// Connections must live 12 s between faults to rotate: the 1-minute CI
	// soak has few such stretches, the 6-minute one many.
	wantRot := int64(1)
	if run >= 5*time.Minute {
		wantRot = int64(n)
	}
	e.check(st.Rotations >= wantRot, "only %d rotations for %d clients", st.Rotations, n)
}

// allHeldBut reports whether the server no longer holds connection id and
// holds one for every client.
func (e *env) allHeldBut(id string) bool {
	held := map[string]bool{}
	for _, c := range e.srv.Connections() {
		if c.ID == id {
			return false
		}
		held[c.Channel] = true
	}
	for _, p := range e.probes {
		if !held[p.channel] {
			return false
		}
	}
	return true
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func roundAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = round1(x)
	}
	return out
}
