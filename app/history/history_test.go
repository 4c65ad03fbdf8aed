package history

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func entry(i int) Entry {
	return Entry{Time: t0.Add(time.Duration(i) * time.Second), Level: "info", Title: fmt.Sprint("t", i), Message: fmt.Sprint("m", i)}
}

func newStore(t *testing.T, clk clock.Clock) (*Store, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "history.json")
	s := Open(p, Options{Clock: clk, Debounce: 2 * time.Second})
	t.Cleanup(func() { s.Close() })
	return s, p
}

// newWatchedStore is newStore with a channel that receives each write.
func newWatchedStore(t *testing.T, clk clock.Clock) (*Store, string, <-chan struct{}) {
	t.Helper()
	wrote := make(chan struct{}, 10)
	p := filepath.Join(t.TempDir(), "history.json")
	s := Open(p, Options{Clock: clk, Debounce: 2 * time.Second, OnWrite: func() { wrote <- struct{}{} }})
	t.Cleanup(func() { s.Close() })
	return s, p, wrote
}

// waitWrite waits for a write by the debounce goroutine.
func waitWrite(t *testing.T, wrote <-chan struct{}) {
	t.Helper()
	select {
	case <-wrote:
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("no write")
	}
}

func titles(es []Entry) string {
	var b []string
	for _, e := range es {
		b = append(b, e.Title)
	}
	return strings.Join(b, ",")
}

func TestAddListNewestFirst(t *testing.T) {
	s, _ := newStore(t, clock.NewFake(t0))
	for i := range 3 {
		s.Add(entry(i))
	}
	got, err := s.List()
	if err != nil || titles(got) != "t2,t1,t0" {
		t.Fatalf("List = %s, %v", titles(got), err)
	}
}

// Writes are debounced: no file until the timer fires, then one file with
// everything; a second process (a new Store) sees it.
func TestDebouncedWriteAndPersistence(t *testing.T) {
	clk := clock.NewFake(t0)
	s, p, wrote := newWatchedStore(t, clk)
	for i := range 50 {
		s.Add(entry(i))
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("file written before the debounce: %v", err)
	}
	if d := clk.Deadlines(); len(d) != 1 || d[0] != 2*time.Second {
		t.Fatalf("want one 2s debounce timer for 50 adds, got %v", d)
	}
	clk.Advance(2 * time.Second)
	waitWrite(t, wrote)
	other := Open(p, Options{})
	got, err := other.List()
	if err != nil || len(got) != 50 || got[0].Title != "t49" {
		t.Fatalf("reopened: %d entries, %v", len(got), err)
	}
	if clk.Waiters() != 0 {
		t.Fatal("timer left behind after flush")
	}
}

func TestCapAt200(t *testing.T) {
	s, p := newStore(t, clock.NewFake(t0))
	for i := range 150 {
		s.Add(entry(i))
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 150; i < 1000; i++ {
		s.Add(entry(i))
	}
	if n := len(s.pending); n > 2*MaxEntries {
		t.Fatalf("pending grew to %d", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := Open(p, Options{}).List()
	if len(got) != 200 || got[0].Title != "t999" || got[199].Title != "t800" {
		t.Fatalf("got %d, first %s, last %s", len(got), got[0].Title, got[len(got)-1].Title)
	}
}

// A Clear from another process (the history window) is not undone by the
// tray's next flush.
func TestClearFromOtherProcess(t *testing.T) {
	tray, p := newStore(t, clock.NewFake(t0))
	tray.Add(entry(1))
	tray.Flush()
	window := Open(p, Options{})
	if err := window.Clear(); err != nil {
		t.Fatal(err)
	}
	tray.Add(entry(2))
	tray.Flush()
	got, _ := window.List()
	if titles(got) != "t2" {
		t.Fatalf("after clear + new toast: %s", titles(got))
	}
}

// A Clear from the window that lands while the tray is between reading
// the file and writing it back waits for the tray's write (the file lock),
// so the entries it cleared do not come back.
func TestClearDuringFlushIsNotLost(t *testing.T) {
	tray, p := newStore(t, clock.NewFake(t0))
	tray.Add(entry(1))
	if err := tray.Flush(); err != nil {
		t.Fatal(err)
	}
	window := Open(p, Options{})
	cleared := make(chan error, 1)
	waiting := make(chan struct{})
	window.beforeLock = func() { close(waiting) }
	tray.afterRead = func() {
		// The tray has read t1. The window clears now: with the lock
		// it waits for the tray's write; without, it clears at once.
		go func() { cleared <- window.Clear() }()
		select {
		case <-waiting:
		case err := <-cleared:
			cleared <- err
		}
	}
	tray.Add(entry(2))
	if err := tray.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := <-cleared; err != nil {
		t.Fatal(err)
	}
	got, err := window.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("after a Clear during the tray's flush: %s, want nothing", titles(got))
	}
}

func TestCloseFlushesAndStopsAdds(t *testing.T) {
	clk := clock.NewFake(t0)
	s, p := newStore(t, clk)
	s.Add(entry(1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Add(entry(2))
	s.Close()
	got, _ := Open(p, Options{}).List()
	if titles(got) != "t1" {
		t.Fatalf("got %s", titles(got))
	}
	if clk.Waiters() != 0 {
		t.Fatal("timer left after Close")
	}
}

func TestFailedFlushKeepsEntries(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o600)
	s := Open(filepath.Join(blocker, "history.json"), Options{Clock: clock.NewFake(t0)}) // parent is a file
	s.Add(entry(1))
	if err := s.Flush(); err == nil {
		t.Fatal("flush into a file's child succeeded")
	}
	got, _ := s.List()
	if titles(got) != "t1" {
		t.Fatalf("entry lost after failed flush: %s", titles(got))
	}
}

func TestDamagedFileIsReplaced(t *testing.T) {
	s, p := newStore(t, clock.NewFake(t0))
	os.WriteFile(p, []byte("{not json"), 0o600)
	if _, err := s.List(); err == nil {
		t.Fatal("damaged file not reported")
	}
	s.Add(entry(1))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := s.List()
	if err != nil || titles(got) != "t1" {
		t.Fatalf("%s %v", titles(got), err)
	}
}

// The decoder bounds a toast's text once; History keeps it as decoded,
// through the file.
func TestKeepsDecodedText(t *testing.T) {
	m := wsclient.Message{Type: "toast", Raw: []byte(`{"type":"toast","title":"` + strings.Repeat("é", 1000) +
		`","message":"` + strings.Repeat("𝄞", 5000) + `","url":"https://x.example/a"}`)}
	toast, err := m.Toast()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newStore(t, clock.NewFake(t0))
	s.Add(FromToast(toast, t0))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := Open(s.Path(), Options{}).List()
	if err != nil || len(got) != 1 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	if e := got[0]; e.Title != toast.Title || e.Message != toast.Message || e.URL != toast.URL {
		t.Fatalf("cut again: title %d of %d bytes, message %d of %d bytes", len(e.Title), len(toast.Title), len(e.Message), len(toast.Message))
	}
}

func TestOpenURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://x.example/a": true, "http://x.example": true,
		"file:///etc/passwd": false, "javascript:alert(1)": false, "ms-settings:": false, "": false, "https:///nohost": false,
	} {
		if _, got := (Entry{URL: u}).OpenURL(); got != ok {
			t.Errorf("OpenURL(%q) = %v", u, got)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s, _ := newStore(t, clock.NewFake(t0))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				s.Add(entry(g*1000 + i))
				if i%25 == 0 {
					s.List()
					s.Flush()
				}
			}
		}()
	}
	wg.Wait()
	got, _ := s.List()
	if len(got) != 200 {
		t.Fatalf("got %d", len(got))
	}
}

// A flood of 10,000 toasts inside one debounce costs one file write.
func TestFloodIsOneWrite(t *testing.T) {
	clk := clock.NewFake(t0)
	s, _, wrote := newWatchedStore(t, clk)
	for i := range 10000 {
		s.Add(entry(i))
	}
	clk.Advance(2 * time.Second)
	waitWrite(t, wrote)
	if w := s.writes.Load(); w != 1 {
		t.Fatalf("%d writes for one flood", w)
	}
}

// BenchmarkAdd measures the cost a toast adds on the client's delivery
// path, and the file writes per 10,000 toasts.
func BenchmarkAdd(b *testing.B) {
	clk := clock.NewFake(t0)
	s := Open(filepath.Join(b.TempDir(), "history.json"), Options{Clock: clk})
	e := entry(1)
	e.Message = strings.Repeat("x", 1000)
	b.ReportAllocs()
	for i := range b.N {
		s.Add(e)
		if i%10000 == 9999 {
			clk.Advance(2 * time.Second) // one debounce per 10,000
		}
	}
	s.Close()
	b.ReportMetric(float64(s.writes.Load())/float64(b.N)*10000, "writes/10k-toasts")
}

// OnWrite is called once per write of the file (the tray's cue to tell an
// open History window to re-read it), and not for a flush with nothing
// queued.
func TestOnWriteOncePerWrite(t *testing.T) {
	clk := clock.NewFake(t0)
	var mu sync.Mutex
	calls := 0
	s := Open(filepath.Join(t.TempDir(), "history.json"), Options{Clock: clk, OnWrite: func() {
		mu.Lock()
		calls++
		mu.Unlock()
	}})
	t.Cleanup(func() { s.Close() })
	count := func() int { mu.Lock(); defer mu.Unlock(); return calls }

	if err := s.Flush(); err != nil || count() != 0 {
		t.Fatalf("empty flush: %d calls, %v", count(), err)
	}
	for i := range 3 {
		s.Add(entry(i))
	}
	if err := s.Flush(); err != nil || count() != 1 {
		t.Fatalf("flush of 3: %d calls, %v", count(), err)
	}
	if err := s.Clear(); err != nil || count() != 2 {
		t.Fatalf("clear: %d calls, %v", count(), err)
	}
}
