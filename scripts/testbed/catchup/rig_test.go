//go:build realpeer

package catchup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/scripts/testbed/realpeer"
	"github.com/toasttray/toasttray/wsclient"
)

// channel is the tray's channel; the site matches it exactly.
const channel = "notif"

// hangGuard bounds every wait: a failure bound on a busy 2-core machine,
// never a figure that is asserted.
const hangGuard = 4 * time.Minute

// rig is one real peer with the catch-up app, and the tray's service on it:
// a real history and catch-up state in a temporary folder, and a notifier
// that records popups. Everything sent, popped up and logged is recorded.
type rig struct {
	t    *testing.T
	peer *realpeer.Peer
	dir  string
	hist *history.Store
	logs *logRecorder
	svc  *service.Service

	mu     sync.Mutex
	sent   []sent // in sending order
	popups []notify.Notification
	terms  []wsclient.Terminator
	termCh chan struct{} // a terminator arrived (buffer of one)
}

// sent is one toast the site stored and pushed.
type sent struct {
	seq       int
	id        string
	delivered int // connections the gateway accepted the live push for
}

func newRig(t *testing.T, opts realpeer.Options) *rig {
	contrib, err := filepath.Abs(filepath.Join("..", "..", "..", "contrib", "django"))
	if err != nil {
		t.Fatal(err)
	}
	opts.Env = append(opts.Env, "REALPEER_PYTHONPATH="+contrib, "REALPEER_APPS=toasttray_catchup",
		"REALPEER_VIEW_MIXINS=toasttray_catchup.views.CatchupMixin",
		"REALPEER_URLS=toasttray_catchup.debug_urls", "TOASTTRAY_CATCHUP_DEBUG_ENDPOINT=1")
	r := &rig{t: t, peer: realpeer.Start(t, opts), dir: t.TempDir(), logs: &logRecorder{}, termCh: make(chan struct{}, 1)}
	// Max: every toast of a scenario stays, so none is counted lost for
	// having been pushed out of the window's 200.
	r.hist = history.Open(filepath.Join(r.dir, history.FileName), history.Options{Max: 100000})
	t.Cleanup(func() { r.hist.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client log (tail):\n%s", r.logs.tail(150))
		}
	})
	return r
}

// start runs a new Service (an app start) on the rig's files and waits for
// its first catch-up terminator: from then on the site has a cursor for
// it, so every toast sent must arrive.
func (r *rig) start() {
	r.t.Helper()
	r.svc = service.New(service.Options{
		Version:  "catchup-test",
		Notifier: notifierFunc(r.notify),
		History:  r.hist,
		Logger:   slog.New(r.logs),
		Watchers: []wsclient.Watcher{},
		// Every toast pops up on its own (no burst coalescing), so popups
		// can be counted against what was sent; the missed-toast summary
		// is the service's and unaffected.
		Gate:      notify.GateOptions{Burst: 1 << 20, Queue: 1 << 20},
		SeenPath:  filepath.Join(r.dir, service.SeenFileName),
		OnMessage: r.onMessage,
	})
	r.t.Cleanup(r.svc.Stop)
	set := settings.Default()
	set.SiteURL, set.WSURL, set.Username = r.peer.SiteURL, r.peer.WSURL, realpeer.User
	set.Channel, set.CatchupHandler = channel, "catchup"
	n := r.terminators()
	if err := r.svc.Restart(r.svc.RunFor(set, wsclient.Credentials{Username: realpeer.User, Password: realpeer.Password})); err != nil {
		r.t.Fatal(err)
	}
	r.waitTerminator(n)
}

func (r *rig) notify(n notify.Notification) error {
	r.mu.Lock()
	r.popups = append(r.popups, n)
	r.mu.Unlock()
	return nil
}

func (r *rig) onMessage(m wsclient.Message) {
	term, ok := m.Terminator()
	if !ok {
		return
	}
	r.mu.Lock()
	r.terms = append(r.terms, term)
	r.mu.Unlock()
	select {
	case r.termCh <- struct{}{}:
	default:
	}
}

func (r *rig) terminators() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.terms)
}

// waitTerminator waits until more than n terminators have arrived.
func (r *rig) waitTerminator(n int) {
	r.t.Helper()
	timeout := time.After(hangGuard)
	for r.terminators() <= n {
		select {
		case <-r.termCh:
		case <-timeout:
			r.t.Fatalf("no catch-up terminator after %d within %s", n, hangGuard)
		}
	}
}

// push stores and sends one toast through the site's send_toast.
func (r *rig) push(ctx context.Context) error {
	r.mu.Lock()
	seq := len(r.sent) + 1
	r.mu.Unlock()
	body, _ := json.Marshal(map[string]string{"user": realpeer.User, "channel": channel, "level": "info",
		"title": "T", "message": message(seq), "url": ""})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.peer.SiteURL+"/_toasttray/send-toast/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sending toast %d: %w", seq, err)
	}
	defer resp.Body.Close()
	var ans struct {
		ID        string `json:"id"`
		Delivered int    `json:"delivered"`
		Error     string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK || ans.ID == "" {
		return fmt.Errorf("sending toast %d: %s %+v %v", seq, resp.Status, ans, err)
	}
	r.mu.Lock()
	r.sent = append(r.sent, sent{seq: seq, id: ans.ID, delivered: ans.Delivered})
	r.mu.Unlock()
	return nil
}

func message(seq int) string { return fmt.Sprintf("toast #%d", seq) }

// pusher sends a toast every interval until stopped: the site's other
// users of send_toast, at a steady pace.
type pusher struct {
	stop chan struct{}
	done chan error
}

func (r *rig) startPusher(every time.Duration) *pusher {
	p := &pusher{stop: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := r.push(ctx)
			cancel()
			if err != nil {
				p.done <- err
				return
			}
			select {
			case <-p.stop:
				p.done <- nil
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// Stop ends the pusher and fails the test if a send failed.
func (p *pusher) Stop(t *testing.T) {
	t.Helper()
	close(p.stop)
	if err := <-p.done; err != nil {
		t.Fatal(err)
	}
}

// pause waits d: the scenario's pace (a few seconds between drops), not a
// stand-in for synchronisation.
func pause(d time.Duration) { <-time.After(d) }

// tally is what arrived, per sequence number.
type tally struct {
	sent, lost, dupHistory, dupPopups, extra int
	missed, notMissed0                       int // entries marked Missed; toasts pushed to nobody but not marked Missed
	popups, summaries, summarised            int // individual popups, summary popups, toasts they stand for
	missedPopups                             int // individual popups of Missed toasts
}

func (r *rig) tally() tally {
	r.t.Helper()
	entries, err := r.hist.List()
	if err != nil {
		r.t.Fatalf("reading the history: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	bySeq := map[string]sent{}
	for _, s := range r.sent {
		bySeq[message(s.seq)] = s
	}
	var c tally
	c.sent = len(r.sent)
	inHistory, missed := map[string]int{}, map[string]bool{}
	for _, e := range entries {
		if _, ok := bySeq[e.Message]; !ok {
			c.extra++
			continue
		}
		inHistory[e.Message]++
		if e.Missed {
			c.missed++
			missed[e.Message] = true
		}
	}
	for m, s := range bySeq {
		switch n := inHistory[m]; {
		case n == 0:
			c.lost++
		case n > 1:
			c.dupHistory += n - 1
		}
		if s.delivered == 0 && inHistory[m] > 0 && !missed[m] {
			c.notMissed0++
		}
	}
	popped := map[string]int{}
	for _, p := range r.popups {
		var n int
		if _, err := fmt.Sscanf(p.Title, "%d notifications while you were away", &n); err == nil {
			c.summaries++
			c.summarised += n
			continue
		}
		c.popups++
		popped[p.Body]++
		if missed[p.Body] {
			c.missedPopups++
		}
	}
	for _, n := range popped {
		if n > 1 {
			c.dupPopups += n - 1
		}
	}
	return c
}

// settle waits until every toast sent is in the history and accounted for
// by a popup (its own or a summary's), or the hang guard runs out; it
// returns how long that took.
func (r *rig) settle() time.Duration {
	r.t.Helper()
	start := time.Now()
	deadline := start.Add(hangGuard)
	for {
		c := r.tally()
		if c.lost == 0 && c.popups+c.summarised >= c.sent {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			r.t.Errorf("after %s: %+v", hangGuard, c)
			return time.Since(start)
		}
		pause(250 * time.Millisecond)
	}
}

// check asserts exactly once: every toast in the history once, none
// popped up twice, every one accounted for by exactly one popup or
// summary, and every toast the site pushed to nobody marked Missed.
func (r *rig) check(c tally) {
	r.t.Helper()
	r.t.Logf("sent %d, lost %d, duplicated in history %d, popups %d (duplicated %d), summaries %d for %d toasts, marked Missed %d, extra entries %d",
		c.sent, c.lost, c.dupHistory, c.popups, c.dupPopups, c.summaries, c.summarised, c.missed, c.extra)
	if c.lost != 0 || c.dupHistory != 0 || c.dupPopups != 0 || c.extra != 0 {
		r.t.Errorf("not exactly once: %+v", c)
	}
	if c.popups+c.summarised != c.sent {
		r.t.Errorf("popups (%d) and summaries (for %d) do not account for the %d toasts sent", c.popups, c.summarised, c.sent)
	}
	if c.notMissed0 != 0 {
		r.t.Errorf("%d toasts the site pushed to no connection are not marked Missed", c.notMissed0)
	}
}

// catchupFigures logs the client's side: terminators (backlog sizes),
// connections ended, connections replaced for no catch-up answer (deaf),
// duplicates dropped by id.
func (r *rig) catchupFigures() (backlogs []int, deaf int) {
	r.mu.Lock()
	for _, term := range r.terms {
		backlogs = append(backlogs, term.Count)
	}
	r.mu.Unlock()
	l := r.logs.counts()
	r.t.Logf("client: %d catch-up terminators, backlog sizes %v; %d connections ended; %d replaced for no catch-up answer (deaf); %d duplicate toasts dropped by id",
		len(backlogs), backlogs, l.ended, l.deaf, l.dropped)
	return backlogs, l.deaf
}

// gatewayFigures reads the gateway log: connections opened and refused,
// and per connection the longest stretch without a push while the pusher
// ran (from..to), which is how long it was deaf at most.
func (r *rig) gatewayFigures(from, to time.Time) (connects int, maxGap time.Duration) {
	r.t.Helper()
	evs, err := r.peer.GatewayLog()
	if err != nil {
		r.t.Fatalf("reading the gateway log: %v", err)
	}
	type conn struct {
		open, close time.Time
		pushes      []time.Time
	}
	conns := map[string]*conn{}
	var refused, pushes, live int
	var down time.Time          // when the last live connection closed
	var offline []time.Duration // from then to the next connect
	reasons := map[string]int{}
	for _, e := range evs {
		ts, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(e["ts"]))
		id := fmt.Sprint(e["id"])
		switch e["event"] {
		case "connect":
			connects++
			conns[id] = &conn{open: ts}
			if live == 0 && !down.IsZero() {
				offline = append(offline, ts.Sub(down).Round(100*time.Millisecond))
			}
			live++
		case "refuse":
			refused++
		case "push":
			pushes++
			if c := conns[id]; c != nil {
				c.pushes = append(c.pushes, ts)
			}
		case "disconnect":
			reasons[fmt.Sprint(e["reason"])]++
			if c := conns[id]; c != nil && c.close.IsZero() {
				c.close = ts
				if live--; live == 0 {
					down = ts
				}
			}
		}
	}
	r.t.Logf("gateway: offline (last close to next connect) %v", offline)
	var worst string
	for id, c := range conns {
		lo, hi := c.open, c.close
		if lo.Before(from) {
			lo = from
		}
		if hi.IsZero() || hi.After(to) {
			hi = to
		}
		if !lo.Before(hi) {
			continue
		}
		sort.Slice(c.pushes, func(i, j int) bool { return c.pushes[i].Before(c.pushes[j]) })
		last := lo
		for _, p := range append(c.pushes, hi) {
			if p.Before(lo) || p.After(hi) {
				continue
			}
			if gap := p.Sub(last); gap > maxGap {
				maxGap, worst = gap, id
			}
			last = p
		}
	}
	r.t.Logf("gateway: %d connections, %d refused, %d pushes, disconnect reasons %v; longest stretch without a push on a live connection while toasts were sent: %s (connection %s)",
		connects, refused, pushes, reasons, maxGap.Round(time.Millisecond), worst)
	return connects, maxGap
}

// logRecorder is the service's slog handler: it counts what the figures
// need and keeps the tail for a failure report. (The client never logs
// secrets.)
type logRecorder struct {
	mu    sync.Mutex
	lines []string
	c     logCounts
}

type logCounts struct{ ended, deaf, dropped int }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", rec.Time.Format("15:04:05.000"), rec.Level, rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	line := b.String()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch rec.Message {
	case "connection ended": // run.go's, at Info (serve.go also logs one at Debug)
		if rec.Level < slog.LevelInfo {
			break
		}
		l.c.ended++
		if strings.Contains(line, "no answer to catch-up") {
			l.c.deaf++
		}
	case "dropping a toast already seen":
		l.c.dropped++
	}
	l.lines = append(l.lines, line)
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) counts() logCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c
}

func (l *logRecorder) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}

// notifierFunc adapts a function to notify.Notifier.
type notifierFunc func(notify.Notification) error

func (f notifierFunc) Notify(n notify.Notification) error { return f(n) }
