//go:build scenario

package scenario

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

var (
	long      = flag.Bool("scenario.long", false, "long versions: 60 s outages, 1,000-client fleet, 6-minute soak")
	fleetN    = flag.Int("scenario.fleet", 0, "fleet size (default 200 short, 1000 long)")
	soakFor   = flag.Duration("scenario.soak", 0, "soak wall time (default 60s short, 6m long)")
	outDirArg = flag.String("scenario.out", "", "where to write scenarios.json and scenarios.md (default <repo>/out)")
)

// failsafe bounds every wait; it is how a broken scenario ends, never how
// a working one synchronises.
const failsafe = 3 * time.Minute

// ---------------------------------------------------------------- results

// Result is one scenario's figures, as written to out/scenarios.json.
type Result struct {
	Name        string         `json:"name"`
	Pass        bool           `json:"pass"`
	Failures    []string       `json:"failures,omitempty"`
	Clients     int            `json:"clients"`
	WallSeconds float64        `json:"wall_s"`
	RecoverMS   *Dist          `json:"recover_ms,omitempty"` // fault end → connected again, per client
	DetectMS    *Dist          `json:"detect_ms,omitempty"`  // fault start → client noticed, per client
	TokensSpent int            `json:"tokens_spent"`         // tokens issued by the server during the fault and recovery
	TokenReqs   int            `json:"token_requests"`       // token requests that reached the site (issued + refused)
	Connects    int            `json:"connects"`             // handshakes accepted during the fault and recovery
	Pushed      int            `json:"toasts_pushed"`        // toasts the server accepted for a connected client
	Delivered   int            `json:"toasts_delivered"`     // distinct toasts the client delivered
	Lost        int            `json:"toasts_lost"`
	Duplicates  int            `json:"duplicates"` // toasts delivered more than once
	PeakHeapMB  float64        `json:"peak_heap_mb"`
	PeakGor     int            `json:"peak_goroutines"`
	GorBefore   int            `json:"goroutines_before"`
	GorAfter    int            `json:"goroutines_after"`
	LogBytes    int            `json:"debug_log_bytes"`
	Notes       map[string]any `json:"notes,omitempty"`
}

// Dist summarises a set of durations in milliseconds.
type Dist struct {
	N      int       `json:"n"`
	P50    float64   `json:"p50"`
	P95    float64   `json:"p95"`
	Max    float64   `json:"max"`
	Mean   float64   `json:"mean"`
	Values []float64 `json:"-"`
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func dist(ds []time.Duration) *Dist {
	if len(ds) == 0 {
		return nil
	}
	v := make([]float64, len(ds))
	sum := 0.0
	for i, d := range ds {
		v[i] = float64(d) / float64(time.Millisecond)
		sum += v[i]
	}
	sort.Float64s(v)
	q := func(p float64) float64 { return v[min(len(v)-1, int(p*float64(len(v))))] }
	return &Dist{N: len(v), P50: round1(q(0.5)), P95: round1(q(0.95)), Max: round1(v[len(v)-1]), Mean: round1(sum / float64(len(v))), Values: v}
}

var (
	resultsMu sync.Mutex
	results   []*Result
)

func TestMain(m *testing.M) {
	if runChild() {
		return // a child process of scenario 14; it never gets here
	}
	flag.Parse()
	code := m.Run()
	if err := writeResults(); err != nil {
		fmt.Fprintln(os.Stderr, "scenario: writing results:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func outDir() string {
	if *outDirArg != "" {
		return *outDirArg
	}
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "out")
		}
	}
	return filepath.Join(dir, "out")
}

func writeResults() error {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return nil
	}
	dir := outDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := "short"
	if *long {
		mode = "long"
	}
	suffix := ""
	if *long {
		suffix = "-long"
	}
	// Keep the figures of scenarios this run did not include (-run).
	var old struct{ Results []*Result }
	if b, err := os.ReadFile(filepath.Join(dir, "scenarios"+suffix+".json")); err == nil && json.Unmarshal(b, &old) == nil {
		have := map[string]bool{}
		for _, r := range results {
			have[r.Name] = true
		}
		for _, r := range old.Results {
			if !have[r.Name] {
				results = append(results, r)
			}
		}
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	b, err := json.MarshalIndent(map[string]any{"mode": mode, "go": runtime.Version(), "cpus": runtime.NumCPU(),
		"when": time.Now().UTC().Format(time.RFC3339), "results": results}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "scenarios"+suffix+".json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Mode: %s, %s, %d CPUs, %s\n\n", mode, runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	md.WriteString("| scenario | pass | clients | recover p50 / p95 / max (ms) | tokens | token req. | pushed | delivered | lost | dup | peak heap MB | peak gor. | gor. before→after | wall s |\n")
	md.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		rec := "–"
		if r.RecoverMS != nil {
			rec = fmt.Sprintf("%.0f / %.0f / %.0f", r.RecoverMS.P50, r.RecoverMS.P95, r.RecoverMS.Max)
		}
		pass := "PASS"
		if !r.Pass {
			pass = "**FAIL**"
		}
		fmt.Fprintf(&md, "| %s | %s | %d | %s | %d | %d | %d | %d | %d | %d | %.1f | %d | %d→%d | %.1f |\n",
			r.Name, pass, r.Clients, rec, r.TokensSpent, r.TokenReqs, r.Pushed, r.Delivered, r.Lost, r.Duplicates,
			r.PeakHeapMB, r.PeakGor, r.GorBefore, r.GorAfter, r.WallSeconds)
	}
	md.WriteString("\nNotes and failures:\n\n")
	for _, r := range results {
		if len(r.Notes) == 0 && len(r.Failures) == 0 {
			continue
		}
		nb, _ := json.Marshal(r.Notes)
		fmt.Fprintf(&md, "- **%s**: %s\n", r.Name, nb)
		for _, f := range r.Failures {
			fmt.Fprintf(&md, "  - FAIL: %s\n", f)
		}
	}
	return os.WriteFile(filepath.Join(dir, "scenarios"+suffix+".md"), []byte(md.String()), 0o644)
}

// ---------------------------------------------------------------- logs

// logBuf collects every client's debug log, for the secrets check.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Shapes of secrets whose values the test cannot know in advance: the
// server's tokens are 64 hex characters; cookies and tokens as they would
// appear in a header or URL.
var secretShapes = []*regexp.Regexp{
	regexp.MustCompile(`[0-9a-f]{64}`),
	regexp.MustCompile(`ws_token=[^R&\s"]`),
	regexp.MustCompile(`(?i)sessionid=[^R&\s";(]`),
	regexp.MustCompile(`(?i)csrftoken=[^R&\s";(]`),
	regexp.MustCompile(`(?i)X-CSRFToken`),
	regexp.MustCompile(`csrfmiddlewaretoken=`),
}

// leaks returns what in text looks like a secret.
func leaks(text string, literal []string) []string {
	var out []string
	for _, s := range literal {
		if s != "" && strings.Contains(text, s) {
			out = append(out, fmt.Sprintf("literal secret %.6s…", s))
		}
	}
	for _, re := range secretShapes {
		if m := re.FindString(text); m != "" {
			out = append(out, fmt.Sprintf("shape %s: %.12s…", re, m))
		}
	}
	return out
}

// ---------------------------------------------------------------- sampler

// sampler records peak heap and goroutines while a scenario runs.
type sampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	heap uint64
	gor  int
}

func startSampler(every time.Duration) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := runtime.NumGoroutine()
	s.mu.Lock()
	s.heap = max(s.heap, ms.HeapAlloc)
	s.gor = max(s.gor, n)
	s.mu.Unlock()
}

func (s *sampler) end() (heapMB float64, gor int) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(s.heap) / (1 << 20), s.gor
}

// ---------------------------------------------------------------- probe

type stEvent struct {
	at time.Time // real time
	st wsclient.Status
}

// probe is one client and what it saw: statuses with real timestamps and
// every toast's sequence number.
type probe struct {
	i       int
	user    string
	channel string
	c       *wsclient.Client

	mu         sync.Mutex
	seen       map[int]int // seq → deliveries
	last       int         // highest seq delivered, for order checks
	outOfOrder int
	msgs       int
	toastErrs  []string
	events     []stEvent
	changed    chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
	runErr error
}

func (p *probe) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *probe) onStatus(st wsclient.Status) {
	p.mu.Lock()
	p.events = append(p.events, stEvent{time.Now(), st})
	p.notifyLocked()
	p.mu.Unlock()
}

func (p *probe) onMessage(m wsclient.Message) {
	var v struct {
		Seq *int `json:"seq"`
	}
	_ = json.Unmarshal(m.Raw, &v)
	var terr error
	if m.Type == "toast" {
		_, terr = m.Toast()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs++
	if terr != nil && len(p.toastErrs) < 10 {
		p.toastErrs = append(p.toastErrs, terr.Error())
	}
	if v.Seq != nil {
		s := *v.Seq
		p.seen[s]++
		if s < p.last && p.seen[s] == 1 {
			p.outOfOrder++
		}
		p.last = max(p.last, s)
	}
	p.notifyLocked()
}

// waitFor blocks until cond (called with p.mu held) holds.
func (p *probe) waitFor(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		ok, ch := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-p.done:
			p.mu.Lock()
			ok := cond()
			p.mu.Unlock()
			if ok {
				return nil
			}
			return fmt.Errorf("client %d: Run returned (%v)", p.i, p.runErr)
		case <-ctx.Done():
			return fmt.Errorf("client %d: %w (status %+v)", p.i, ctx.Err(), p.c.Status())
		}
	}
}

// connectedSince returns when the client was first Connected at or after t.
func (p *probe) connectedSince(t time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.events {
		if !e.at.Before(t) && e.st.State == wsclient.StateConnected {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// leftConnected returns when the client first left Connected at or after t.
func (p *probe) leftConnected(t time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.events {
		if !e.at.Before(t) && e.st.State != wsclient.StateConnected {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// ---------------------------------------------------------------- env

// env is one scenario: an emulator, its clients, the figures.
type env struct {
	t       *testing.T
	srv     *wstest.Server
	logs    *logBuf
	secrets []string
	probes  []*probe
	res     *Result
	smp     *sampler
	start   time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	pushed  map[int]map[int]bool // client → seqs accepted by the server
	seq     int
	base    wstest.Counters // counters at mark()
	accDel  int             // delivered toasts already compacted away
	accDup  int
	closed  bool
}

type envOpts struct {
	n       int
	srv     wstest.Options
	cfg     func(i int, c *wsclient.Config)
	opts    func(i int, o *wsclient.Options)
	session bool                     // pasted session cookies instead of a password
	setup   func(srv *wstest.Server) // after the server starts, before the clients exist
	sample  time.Duration            // sampler period; default 20ms
	noStart bool
	limit   time.Duration // failsafe for the whole scenario; default failsafe
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newEnv(t *testing.T, name string, o envOpts) *env {
	t.Helper()
	if o.n == 0 {
		o.n = 1
	}
	e := &env{t: t, logs: &logBuf{}, pushed: map[int]map[int]bool{},
		res: &Result{Name: name, Clients: o.n, Notes: map[string]any{}}}
	runtime.GC()
	e.res.GorBefore = runtime.NumGoroutine()
	if o.sample == 0 {
		o.sample = 20 * time.Millisecond
	}
	e.smp = startSampler(o.sample)
	e.start = time.Now()
	if o.limit == 0 {
		o.limit = failsafe
	}
	e.ctx, e.cancel = context.WithTimeout(context.Background(), o.limit)
	users := map[string]string{}
	pw := make([]string, o.n)
	for i := range o.n {
		pw[i] = "pw-" + randHex(12)
		users[fmt.Sprintf("user%d", i)] = pw[i]
		e.secrets = append(e.secrets, pw[i])
	}
	o.srv.Users = users
	e.srv = wstest.NewServer(o.srv)
	if o.setup != nil {
		o.setup(e.srv)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for i := range o.n {
		user := fmt.Sprintf("user%d", i)
		p := &probe{i: i, user: user, channel: fmt.Sprintf("c%d", i), seen: map[int]int{},
			changed: make(chan struct{}), done: make(chan struct{})}
		cfg := wsclient.Config{SiteURL: e.srv.URL, WSURL: e.srv.WSURL, Channel: p.channel, UserAgent: "ToastTray/scenario"}
		if o.cfg != nil {
			o.cfg(i, &cfg)
		}
		creds := wsclient.Credentials{Username: user, Password: pw[i]}
		if o.session {
			sid, csrf := e.srv.NewSession(user)
			creds = wsclient.Credentials{Username: user, SessionID: sid, CSRFToken: csrf}
			e.secrets = append(e.secrets, sid, csrf)
		}
		opts := wsclient.Options{Logger: logger.With("client", i), OnStatus: p.onStatus, OnMessage: p.onMessage,
			Watchers: []wsclient.Watcher{}}
		if o.opts != nil {
			o.opts(i, &opts)
		}
		c, err := wsclient.New(cfg, creds, opts)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		p.c = c
		e.probes = append(e.probes, p)
	}
	t.Cleanup(e.close)
	if !o.noStart {
		e.startAll()
		e.waitConnected(e.probes...)
	}
	e.mark()
	return e
}

func (e *env) startAll() {
	for _, p := range e.probes {
		e.startProbe(p)
	}
}

func (e *env) startProbe(p *probe) {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		defer close(p.done)
		err := p.c.Run(ctx)
		p.mu.Lock()
		p.runErr = err
		p.notifyLocked()
		p.mu.Unlock()
	}()
}

// check records a failure without stopping the scenario, so its figures
// are still written.
func (e *env) check(ok bool, format string, a ...any) bool {
	e.t.Helper()
	if !ok {
		msg := fmt.Sprintf(format, a...)
		first, _, _ := strings.Cut(msg, "\n")
		e.res.Failures = append(e.res.Failures, first)
		e.t.Error(msg)
	}
	return ok
}

// must stops the scenario on failure (after recording it).
func (e *env) must(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.res.Failures = append(e.res.Failures, what+": "+err.Error())
		e.t.Fatalf("%s: %v", what, err)
	}
}

func (e *env) note(k string, v any) { e.res.Notes[k] = v }

// mark starts counting tokens and connects from now.
func (e *env) mark() { e.base = e.srv.Counters() }

// spent adds the tokens, requests and connects since mark to the result.
func (e *env) spent() (tokens, reqs, connects int) {
	c := e.srv.Counters()
	tokens = c.TokensIssued - e.base.TokensIssued
	reqs = tokens
	for _, r := range []wstest.Reason{wstest.ReasonTokenRateLimited, wstest.ReasonTokenFault, wstest.ReasonTokenNoAuth, wstest.ReasonTokenCSRF} {
		reqs += c.Refused(r) - e.base.Refused(r)
	}
	connects = c.Connects - e.base.Connects
	e.res.TokensSpent += tokens
	e.res.TokenReqs += reqs
	e.res.Connects += connects
	return
}

// waitConnected waits until every given client is Connected and the server
// holds one connection per client.
func (e *env) waitConnected(ps ...*probe) {
	e.t.Helper()
	for _, p := range ps {
		e.must(p.waitFor(e.ctx, func() bool {
			return len(p.events) > 0 && p.events[len(p.events)-1].st.State == wsclient.StateConnected
		}), "waiting for connected")
	}
	e.must(e.atLeast(len(e.probes)), "server connections")
}

// atLeast waits until the server holds at least n connections (a client
// in the middle of a rotation holds two).
func (e *env) atLeast(n int) error {
	return e.srv.WaitFor(e.ctx, func() bool { return e.srv.NumConnections() >= n })
}

// waitReconnected waits until every client has been Connected after t and
// records the per-client time from t.
func (e *env) waitReconnected(t time.Time) []time.Duration {
	e.t.Helper()
	var ds []time.Duration
	for _, p := range e.probes {
		e.must(p.waitFor(e.ctx, func() bool {
			for _, ev := range p.events {
				if !ev.at.Before(t) && ev.st.State == wsclient.StateConnected {
					return true
				}
			}
			return false
		}), "waiting for reconnect")
		at, _ := p.connectedSince(t)
		ds = append(ds, at.Sub(t))
	}
	e.must(e.atLeast(len(e.probes)), "server connections after recovery")
	return ds
}

// reconnectedWithin is waitReconnected bounded by limit: it reports the
// clients that did not reconnect instead of failing the scenario outright.
func (e *env) reconnectedWithin(t time.Time, limit time.Duration) (ds []time.Duration, missing []int) {
	ctx, cancel := context.WithTimeout(e.ctx, limit)
	defer cancel()
	for _, p := range e.probes {
		err := p.waitFor(ctx, func() bool {
			for _, ev := range p.events {
				if !ev.at.Before(t) && ev.st.State == wsclient.StateConnected {
					return true
				}
			}
			return false
		})
		if err != nil {
			missing = append(missing, p.i)
			continue
		}
		at, _ := p.connectedSince(t)
		ds = append(ds, at.Sub(t))
	}
	return ds, missing
}

func toast(seq int, pad string) map[string]any {
	m := map[string]any{"type": "toast", "level": "info", "title": "Toast", "message": "scenario toast" + pad, "seq": seq}
	return m
}

// push sends one toast to client p's channel and records it as owed when
// the server accepted it for a connection; a full server queue is waited
// out (the emulator keeps 256 frames per connection).
func (e *env) push(p *probe, pad string) bool {
	e.seq++
	seq := e.seq
	for {
		if n := e.srv.Push(p.channel, toast(seq, pad)); n > 0 {
			if e.pushed[p.i] == nil {
				e.pushed[p.i] = map[int]bool{}
			}
			e.pushed[p.i][seq] = true
			e.res.Pushed++
			return true
		}
		if !slices.ContainsFunc(e.srv.Connections(), func(c wstest.ConnInfo) bool { return c.Channel == p.channel }) {
			return false // not connected: not owed
		}
		before := e.srv.Counters().PushesDelivered
		e.must(e.srv.WaitFor(e.ctx, func() bool { return e.srv.Counters().PushesDelivered > before }), "server queue full")
	}
}

// traffic pushes k toasts to every client, spread over spread (0: at
// once), and waits until each client delivered all it is owed.
func (e *env) traffic(k int, spread time.Duration) {
	e.t.Helper()
	var tick *time.Ticker
	if spread > 0 {
		tick = time.NewTicker(spread / time.Duration(k))
		defer tick.Stop()
	}
	for j := 0; j < k; j++ {
		for _, p := range e.probes {
			e.check(e.push(p, ""), "client %d not connected for traffic", p.i)
		}
		if tick != nil {
			<-tick.C
		}
	}
	e.waitDelivered()
}

// waitDelivered waits until every client has delivered every toast the
// server accepted for it.
func (e *env) waitDelivered() {
	e.t.Helper()
	// A toast not delivered 30 s after the last push is lost: tally counts it.
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	for _, p := range e.probes {
		owed := e.pushed[p.i]
		err := p.waitFor(ctx, func() bool {
			for s := range owed {
				if p.seen[s] == 0 {
					return false
				}
			}
			return true
		})
		if err != nil {
			e.check(false, "client %d: toasts not delivered: %v", p.i, err)
			return
		}
	}
}

// tally fills pushed/delivered/lost/duplicates from the probes.
func (e *env) tally() {
	e.res.Delivered, e.res.Lost, e.res.Duplicates = e.accDel, 0, e.accDup
	ooo := 0
	for _, p := range e.probes {
		p.mu.Lock()
		for s := range e.pushed[p.i] {
			if p.seen[s] == 0 {
				e.res.Lost++
			}
		}
		for _, n := range p.seen {
			e.res.Delivered++
			if n > 1 {
				e.res.Duplicates += n - 1
			}
		}
		ooo += p.outOfOrder
		if len(p.toastErrs) > 0 {
			e.check(false, "client %d: toast decode errors: %v", p.i, p.toastErrs)
		}
		p.mu.Unlock()
	}
	if ooo > 0 {
		e.note("out_of_order", ooo)
	}
}

// compact forgets toasts already delivered and checked, so a long soak's
// own bookkeeping does not grow the heap it measures. Call it after
// waitDelivered.
func (e *env) compact() {
	for _, p := range e.probes {
		p.mu.Lock()
		owed := e.pushed[p.i]
		for s, n := range p.seen {
			if !owed[s] {
				continue
			}
			e.accDel++
			e.accDup += n - 1
			delete(p.seen, s)
			delete(owed, s)
		}
		p.mu.Unlock()
	}
}

// clientLog returns client i's debug log lines and its status events.
func (e *env) clientLog(i int) string {
	var b strings.Builder
	tag := fmt.Sprintf("client=%d ", i)
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line+" ", tag) {
			b.WriteString(line + "\n")
		}
	}
	p := e.probes[i]
	p.mu.Lock()
	for _, ev := range p.events {
		fmt.Fprintf(&b, "status %s %s err=%q\n", ev.at.Format("15:04:05.000"), ev.st.State, ev.st.Err)
	}
	p.mu.Unlock()
	return b.String()
}

func (e *env) statsSum() wsclient.Stats {
	var s wsclient.Stats
	for _, p := range e.probes {
		x := p.c.Stats()
		s.Frames += x.Frames
		s.Delivered += x.Delivered
		s.Duplicates += x.Duplicates
		s.Binary += x.Binary
		s.NotJSON += x.NotJSON
		s.NotObject += x.NotObject
		s.UnknownType += x.UnknownType
		s.Tokens += x.Tokens
		s.Connects += x.Connects
		s.Rotations += x.Rotations
		s.PongTimeout += x.PongTimeout
	}
	return s
}

// stopClients cancels every client and waits for Run to return.
func (e *env) stopClients() {
	for _, p := range e.probes {
		if p.cancel != nil {
			p.cancel()
		}
	}
	for _, p := range e.probes {
		if p.cancel == nil {
			continue
		}
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			e.check(false, "client %d: Run did not return 30 s after cancel", p.i)
		}
	}
}

// close ends the scenario: clients, server, leak and secrets checks, and
// records the result.
func (e *env) close() {
	if e.closed {
		return
	}
	e.closed = true
	e.stopClients()
	e.tally()
	e.check(e.res.Lost == 0, "%d toasts lost", e.res.Lost)
	e.check(e.res.Duplicates == 0, "%d duplicate toasts", e.res.Duplicates)
	e.srv.Close()
	e.cancel()
	e.res.PeakHeapMB, e.res.PeakGor = e.smp.end()
	if parallelRunning.Load() > 0 {
		// Side by side with other scenarios: the counts are shared, the
		// leak check is TestScenario's, at the end.
		e.res.GorAfter = runtime.NumGoroutine()
		e.note("ran_in_parallel", "peak heap and goroutines include the other parallel scenarios")
	} else {
		e.res.GorAfter = settleGoroutines(e.res.GorBefore)
	}
	e.check(parallelRunning.Load() > 0 || e.res.GorAfter <= e.res.GorBefore, "goroutines: %d before, %d after: leak\n%s", e.res.GorBefore, e.res.GorAfter, clientStacks())
	// Secrets: debug logs, every status error, every Run error.
	var text strings.Builder
	text.WriteString(e.logs.String())
	for _, p := range e.probes {
		p.mu.Lock()
		for _, ev := range p.events {
			text.WriteString(ev.st.Err + "\n")
		}
		if p.runErr != nil {
			text.WriteString(p.runErr.Error() + "\n")
		}
		p.mu.Unlock()
	}
	e.res.LogBytes = len(e.logs.String())
	if dir := os.Getenv("SCENARIO_LOG_DIR"); dir != "" { // the clients' debug logs, for diagnosis
		name := strings.Map(func(r rune) rune {
			if r == ' ' || r == '/' || r == ',' || r == ':' {
				return '_'
			}
			return r
		}, e.res.Name)
		_ = os.WriteFile(filepath.Join(dir, name+".log"), []byte(e.logs.String()), 0o644)
	}
	if l := leaks(text.String(), e.secrets); len(l) > 0 {
		e.check(false, "secrets in logs/status/errors: %v", l)
	}
	e.res.WallSeconds = round1(time.Since(e.start).Seconds())
	e.res.Pass = !e.t.Failed() && len(e.res.Failures) == 0
	resultsMu.Lock()
	results = append(results, e.res)
	resultsMu.Unlock()
}

// settleGoroutines waits (bounded) for exiting goroutines to leave the
// runtime's count; the code under test has already been awaited.
func settleGoroutines(before int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > before; i++ {
		runtime.Gosched()
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

func clientStacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "toasttray") && !strings.Contains(g, "scenario.(*env).close") {
			out = append(out, g)
		}
	}
	if len(out) > 5 {
		out = out[:5]
	}
	return strings.Join(out, "\n\n")
}

// after waits d of real time: the length of a fault, never a stand-in for
// synchronisation.
func (e *env) after(d time.Duration) {
	select {
	case <-time.After(d):
	case <-e.ctx.Done():
		e.t.Fatal("failsafe expired")
	}
}

func ms(d time.Duration) float64 { return round1(float64(d) / float64(time.Millisecond)) }
