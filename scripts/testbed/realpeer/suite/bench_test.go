//go:build realpeer

package suite

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/toasttray/toasttray/scripts/testbed/realpeer"
)

var targets = flag.Bool("realpeer.targets", false, "fail the benchmark when a target is missed (figures depend on the machine's load)")

// The reconnect benchmark on the real package: toasttray listen beside a
// client that retries at a fixed 3 s with a fresh token each time (the
// original seed script), both connected to the same peer as different
// users, a toast pushed to each one's channel every 200 ms, and the
// gateway dropping every connection (no close frame) at fixed intervals.
//
// About 3 minutes, so make realpeer skips it; make realpeer-bench runs
//
//	go test -tags realpeer -count=1 -v -run '^TestBench$' ./scripts/testbed/realpeer/suite
func TestBench(t *testing.T) {
	var rows []benchRow
	t.Logf("load average before: %s", loadavg())
	for _, sc := range []struct {
		name  string
		every time.Duration
		// target median reconnect delay of toasttray
		median time.Duration
		// toasttray must lose fewer toasts than the fixed-3 s client
		fewerLost bool
	}{
		{"isolated drops, 15 s apart", 15 * time.Second, time.Second, false},
		{"frequent drops, 8 s apart", 8 * time.Second, 3 * time.Second, true},
	} {
		t.Run(strings.Fields(sc.name)[0], func(t *testing.T) {
			tt, fixed := runBench(t, sc.every, 5)
			tt.scenario, fixed.scenario = sc.name, sc.name
			rows = append(rows, tt, fixed)
			miss := func(format string, a ...any) {
				if *targets {
					t.Errorf(format, a...)
				} else {
					t.Logf("target missed: "+format, a...)
				}
			}
			if tt.median() > sc.median {
				miss("toasttray's median reconnect delay %v > %v", tt.median(), sc.median)
			}
			if sc.fewerLost && tt.lost >= fixed.lost {
				miss("toasttray lost %d toasts, the fixed-3 s client %d", tt.lost, fixed.lost)
			}
			if tt.maxPerMinute > 10 {
				miss("toasttray took %d tokens in a minute (> 10)", tt.maxPerMinute)
			}
		})
	}
	var b strings.Builder
	b.WriteString("\n| scenario | client | drops | reconnect delays (s) | median | lost / sent | 410 Gone | duplicates | tokens/min (max in 60 s) |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		var ds []string
		for _, d := range r.delays {
			ds = append(ds, fmt.Sprintf("%.2f", d.Seconds()))
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %.2f s | %d / %d | %d | %d | %.1f (%d) |\n", r.scenario, r.client, r.drops,
			strings.Join(ds, " "), r.median().Seconds(), r.lost, r.sent, r.gone, r.dups, r.perMinute, r.maxPerMinute)
	}
	t.Logf("load average after: %s%s", loadavg(), b.String())
}

// loadavg is /proc/loadavg's first three fields: the figures depend on it.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

type benchRow struct {
	scenario, client string
	drops            int
	delays           []time.Duration // gateway disconnect → next connect, per drop
	sent, lost, dups int
	pushErrs         int // pushes the send path failed (left out of sent)
	gone             int // pushes the gateway answered 410 (a dead or not yet upgraded connection)
	perMinute        float64
	maxPerMinute     int
}

func (r benchRow) median() time.Duration {
	if len(r.delays) == 0 {
		return 0
	}
	d := slices.Clone(r.delays)
	slices.Sort(d)
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

// runBench runs one scenario on a fresh peer: drops drop-alls every apart.
func runBench(t *testing.T, every time.Duration, drops int) (tt, fixed benchRow) {
	// Package defaults but for the connect limit per IP, which two local
	// clients would share (on real desktops each has its own IP).
	p := realpeer.Start(t, realpeer.Options{ExtraUsers: 1, ConnectRate: 200})
	const ttCh, fixedCh = "bench-toasttray", "bench-fixed3s"

	gm := gwMark(t, p)
	c := startListen(t, connArgs(p, ttCh, realpeer.User), password)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := newObserver()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { fixed3s(ctx, p, "user1", "user1-pass", fixedCh, base) })
	c.waitState(t, "connected", 0, waitLong)
	base.waitState(t, "connected", 0, waitLong)
	waitGateway(t, p, gm, ttCh, "connect")
	waitGateway(t, p, gm, fixedCh, "connect")

	// Pushes start 10 s before the first drop (the pushers' start-up
	// included) and end about 10 s after the last.
	const lead, tail = 10 * time.Second, 10 * time.Second
	duration := lead + time.Duration(drops-1)*every + tail
	var (
		mu      sync.Mutex
		pushes  []realpeer.Pushed
		pushErr error
		pushers sync.WaitGroup
	)
	start := time.Now()
	for _, ch := range []string{ttCh, fixedCh} {
		pushers.Go(func() {
			ps, err := p.RunPusher(ctx, ch, 200*time.Millisecond, duration)
			mu.Lock()
			defer mu.Unlock()
			pushes = append(pushes, ps...)
			pushErr = errors.Join(pushErr, err)
		})
	}
	timer := time.NewTimer(lead)
	for i := range drops {
		<-timer.C
		control(t, p, "drop-all", "")
		if i < drops-1 {
			timer.Reset(every)
		}
	}
	pushers.Wait() // the pushers end on their own after duration
	cancel()
	wg.Wait()
	if pushErr != nil {
		t.Fatal(pushErr)
	}
	end := time.Now()
	c.stop(t)

	evs, err := p.GatewayLog()
	if err != nil {
		t.Fatal(err)
	}
	tokens := tokenTimes(t, p)
	tt = measure("toasttray listen", ttCh, evs, gm, pushes, c.received(), tokens[realpeer.User], start, end)
	fixed = measure("fixed 3 s", fixedCh, evs, gm, pushes, base.received(), tokens["user1"], start, end)
	tt.drops, fixed.drops = drops, drops
	if n := tt.pushErrs + fixed.pushErrs; n > 0 {
		t.Logf("%d pushes failed in the send path (left out)", n)
	}
	t.Logf("toasttray states: %s", c.stateString())
	return tt, fixed
}

// measure computes one client's row from the gateway log, the pushes and
// what it received.
func measure(client, channel string, evs []realpeer.Event, mark int, pushes []realpeer.Pushed, got []int, tokens []time.Time, start, end time.Time) benchRow {
	r := benchRow{client: client}
	ids := map[string]bool{}
	var down time.Time
	for _, e := range evs[mark:] {
		ts, _ := time.Parse(time.RFC3339Nano, str(e, "ts"))
		switch str(e, "event") {
		case "connect":
			if str(e, "channel") != channel {
				continue
			}
			ids[str(e, "id")] = true
			if !down.IsZero() {
				r.delays = append(r.delays, ts.Sub(down))
				down = time.Time{}
			}
		case "disconnect":
			if ids[str(e, "id")] && str(e, "reason") == "drop-all" {
				down = ts
			}
		}
	}
	seen := map[int]bool{}
	for _, s := range got {
		if seen[s] {
			r.dups++
		}
		seen[s] = true
	}
	for _, ps := range pushes {
		if ps.Channel != channel {
			continue
		}
		if ps.Err != "" {
			r.pushErrs++ // not the client's loss
			continue
		}
		r.sent++
		if ps.Targets > ps.Delivered {
			r.gone++
		}
		if !seen[ps.Seq] {
			r.lost++
		}
	}
	var in []time.Time
	for _, tm := range tokens {
		if !tm.Before(start.Add(-time.Minute)) && !tm.After(end) {
			in = append(in, tm)
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i].Before(in[j]) })
	for i := range in {
		n := 0
		for j := i; j < len(in) && in[j].Sub(in[i]) < time.Minute; j++ {
			n++
		}
		r.maxPerMinute = max(r.maxPerMinute, n)
	}
	var during int
	for _, tm := range in {
		if !tm.Before(start) {
			during++
		}
	}
	r.perMinute = float64(during) / end.Sub(start).Minutes()
	return r
}

// tokenTimes reads when each user's tokens were issued, from the site's
// database (the package keeps used tokens).
func tokenTimes(t *testing.T, p *realpeer.Peer) map[string][]time.Time {
	t.Helper()
	out := shell(t, p, `import json
from django_aws_api_gateway_websockets.models import WebSocketToken as T
d = {}
for u, c in T.objects.values_list("user__username", "created_at"):
    d.setdefault(u, []).append(c.timestamp())
print(json.dumps(d))`)
	var raw map[string][]float64
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("token times %q: %v", out, err)
	}
	times := map[string][]time.Time{}
	for u, ts := range raw {
		for _, f := range ts {
			times[u] = append(times[u], time.UnixMilli(int64(f*1000)))
		}
	}
	return times
}

// fixed3s is the baseline: the original seed script's loop. It signs in
// once, then forever: a fresh token, connect, read until the connection
// ends, sleep 3 s. Any failure also sleeps 3 s. It reports "connected"
// and "waiting" states and received toasts to o, until ctx ends.
func fixed3s(ctx context.Context, p *realpeer.Peer, user, pass, channel string, o *observer) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	site, _ := url.Parse(p.SiteURL)
	cookie := func(name string) string {
		for _, c := range jar.Cookies(site) {
			if c.Name == name {
				return c.Value
			}
		}
		return ""
	}
	post := func(path string, body url.Values) (*http.Response, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.SiteURL+path, strings.NewReader(body.Encode()))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", p.SiteURL)
		req.Header.Set("Referer", p.SiteURL+path)
		req.Header.Set("X-CSRFToken", cookie("csrftoken"))
		resp, err := hc.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	signIn := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.SiteURL+"/accounts/login/", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		resp, _, err = post("/accounts/login/", url.Values{"csrfmiddlewaretoken": {cookie("csrftoken")}, "username": {user}, "password": {pass}})
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusFound {
			return fmt.Errorf("sign-in: %s", resp.Status)
		}
		return nil
	}
	once := func() error {
		if cookie("sessionid") == "" {
			if err := signIn(); err != nil {
				return err
			}
		}
		resp, body, err := post("/api/ws-token/", nil)
		if err != nil {
			return err
		}
		var tok struct{ Token string }
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil {
			return fmt.Errorf("token: %s %s", resp.Status, body)
		}
		d := websocket.Dialer{HandshakeTimeout: 15 * time.Second, EnableCompression: true}
		h := http.Header{"Origin": {p.SiteURL}, "User-Agent": {"seed-script"},
			"Cookie": {"sessionid=" + cookie("sessionid") + "; csrftoken=" + cookie("csrftoken")}}
		ws, resp, err := d.DialContext(ctx, p.WSURL+"?"+url.Values{"ws_token": {tok.Token}, "channel": {channel}}.Encode(), h)
		if err != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return err
		}
		defer ws.Close()
		o.addState(stateEv{State: "connected"})
		stop := context.AfterFunc(ctx, func() { ws.Close() })
		defer stop()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return err
			}
			o.addMessage(data)
		}
	}
	for ctx.Err() == nil {
		err := once()
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return
		}
		o.addState(stateEv{State: "waiting", Err: fmt.Sprint(err)})
		select {
		case <-ctx.Done():
			return
		case <-time.After(3 * time.Second):
		}
	}
}
