//go:build realpeer

package catchup

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/toasttray/toasttray/scripts/testbed/realpeer"
)

// pushEvery is the pace of the site's toasts.
const pushEvery = 200 * time.Millisecond

// defaultOutage is how long the gateway refuses connections in
// TestGatewayRefuses; TOASTTRAY_CATCHUP_OUTAGE (a Go duration) shortens it
// for local runs. `make realpeer-catchup` keeps 2 minutes.
const defaultOutage = 2 * time.Minute

func outage(t *testing.T) time.Duration {
	s := os.Getenv("TOASTTRAY_CATCHUP_OUTAGE")
	if s == "" {
		return defaultOutage
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("TOASTTRAY_CATCHUP_OUTAGE=%q: want a positive duration such as 20s", s)
	}
	return d
}

func control(t *testing.T, r *rig, action string, q url.Values) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.peer.Control(ctx, action, q); err != nil {
		t.Fatal(err)
	}
}

func waitConnected(t *testing.T, r *rig) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := r.peer.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

// Five abrupt drops (TCP aborted, the client sees 1006) a few seconds
// apart while a toast is sent every 200 ms: every toast arrives once.
func TestAbruptDrops(t *testing.T) {
	r := newRig(t, realpeer.Options{})
	r.start()
	from := time.Now()
	p := r.startPusher(pushEvery)
	for range 5 {
		waitConnected(t, r)
		pause(3 * time.Second)
		control(t, r, "drop-all", nil)
	}
	waitConnected(t, r)
	pause(3 * time.Second)
	p.Stop(t)
	to := time.Now()
	took := r.settle()
	c := r.tally()
	r.check(c)
	t.Logf("settled %s after the last toast", took.Round(time.Millisecond))
	r.catchupFigures()
	r.gatewayFigures(from, to)
}

// The gateway refuses connections for the outage after the live
// connection is dropped; toasts keep coming. After it accepts again every
// toast arrives once, the backlog (longer than the cap of 200 with the
// full outage, so paged) pops up as one summary, and every toast sent
// while away is marked Missed in the history.
func TestGatewayRefuses(t *testing.T) {
	d := outage(t)
	r := newRig(t, realpeer.Options{})
	r.start()
	p := r.startPusher(pushEvery)
	pause(3 * time.Second)
	control(t, r, "stop-accepting", nil)
	control(t, r, "drop-all", nil)
	t.Logf("refusing connections for %s", d)
	pause(d)
	n := r.terminators()
	control(t, r, "start-accepting", nil)
	accepting := time.Now()
	r.waitTerminator(n)
	firstAnswer := time.Since(accepting)
	pause(3 * time.Second) // live toasts after the recovery
	p.Stop(t)
	to := time.Now()
	took := r.settle()
	recovered := time.Since(accepting)
	c := r.tally()
	r.check(c)
	backlogs, _ := r.catchupFigures()
	r.gatewayFigures(accepting, to)
	t.Logf("first catch-up answer %s after start-accepting; everything in %s (settled %s after the last toast)",
		firstAnswer.Round(time.Millisecond), recovered.Round(time.Millisecond), took.Round(time.Millisecond))
	backlog := 0
	for _, b := range backlogs {
		backlog += b
	}
	// Every Missed entry came with a catch-up backlog and is summarised;
	// the service pops backlogs of up to 3 one by one, longer ones only as
	// the summary.
	if c.summaries != 1 || c.summarised != c.missed || c.missedPopups != 0 {
		t.Errorf("want one summary for the %d missed toasts and no popup of its own for them: %d summaries for %d, %d popups of missed toasts",
			c.missed, c.summaries, c.summarised, c.missedPopups)
	}
	if c.missed < int(d/pushEvery)/2 {
		t.Errorf("only %d toasts marked Missed after %s away at one per %s", c.missed, d, pushEvery)
	}
	t.Logf("catch-up backlog %d toasts, %d marked Missed", backlog, c.missed)
}

// The app quits, 20 toasts are sent, the app starts again with the same
// catch-up state and history: the 20 arrive once each, none of those
// before the quit again.
func TestAppRestart(t *testing.T) {
	r := newRig(t, realpeer.Options{})
	r.start()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	for range 10 {
		if err := r.push(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r.settle()
	before := r.tally()
	r.svc.Stop()
	for range 20 {
		if err := r.push(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r.start()
	took := r.settle()
	c := r.tally()
	r.check(c)
	t.Logf("settled %s after the restart's first catch-up answer", took.Round(time.Millisecond))
	backlogs, _ := r.catchupFigures()
	if c.missed != 20 || c.summaries != 1 || c.summarised != 20 || c.popups != before.popups {
		t.Errorf("want the 20 as one summary, marked Missed, and no new popup: before %+v, after %+v", before, c)
	}
	if len(backlogs) != 2 || backlogs[1] != 20 {
		t.Errorf("catch-up backlogs %v, want [0 20]", backlogs)
	}
}

// The gateway closes every connection with 1001 after 15 s (its maximum
// duration) while a toast is sent every 200 ms, for about four cycles:
// every toast arrives once. Reports whether a connection was deaf.
func TestGatewayCloses1001(t *testing.T) {
	const cycles = 4
	r := newRig(t, realpeer.Options{GatewayArgs: []string{"--max-duration", "15"}})
	r.start()
	from := time.Now()
	p := r.startPusher(pushEvery)
	deadline := time.Now().Add(hangGuard)
	for closes := 0; closes < cycles; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d max-duration closes within %s", closes, hangGuard)
		}
		pause(time.Second)
		evs, err := r.peer.GatewayLog()
		if err != nil {
			t.Fatal(err)
		}
		closes = 0
		for _, e := range evs {
			if e["event"] == "disconnect" && e["reason"] == "max_duration" {
				closes++
			}
		}
	}
	waitConnected(t, r)
	pause(3 * time.Second)
	p.Stop(t)
	to := time.Now()
	took := r.settle()
	c := r.tally()
	r.check(c)
	t.Logf("settled %s after the last toast", took.Round(time.Millisecond))
	_, deaf := r.catchupFigures()
	_, gap := r.gatewayFigures(from, to)
	r.mu.Lock()
	var pushedToNobody int
	for _, s := range r.sent {
		if s.delivered == 0 {
			pushedToNobody++
		}
	}
	r.mu.Unlock()
	t.Logf("deaf: %d connections replaced for no catch-up answer; %d toasts pushed live to no connection; longest stretch without a push %s",
		deaf, pushedToNobody, gap.Round(time.Millisecond))
}
