package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/wsclient"
)

func TestHistoryViewListsClearsAndOpens(t *testing.T) {
	test.NewTempApp(t)
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.Local)
	store := history.Open(filepath.Join(t.TempDir(), "history.json"), history.Options{})
	t.Cleanup(func() { store.Close() })
	store.Add(history.Entry{Time: now.Add(-25 * time.Hour), Level: wsclient.LevelInfo, Message: "old one", Missed: true})
	store.Add(history.Entry{Time: now.Add(-time.Minute), Level: wsclient.LevelError, Title: "Build failed",
		Message: "pipeline\n#42 failed", URL: "https://ci.example.com/42"})
	store.Add(history.Entry{Time: now, Level: wsclient.LevelWarning, Title: "Sneaky", Message: "x",
		URL: "file:///etc/passwd"})
	if err := store.Flush(); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var opened []string
	ready := make(chan struct{})
	done := make(chan struct{}, 1)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(720, 520))
	v := newHistoryView(w, HistoryDeps{
		List:  func() ([]history.Entry, error) { <-ready; return store.List() },
		Clear: store.Clear,
		Open: func(u string) error {
			mu.Lock()
			defer mu.Unlock()
			opened = append(opened, u)
			return nil
		},
		Now: func() time.Time { return now },
	}, func() { done <- struct{}{} })
	t.Cleanup(v.Close)
	w.SetContent(v.Content())
	close(ready)
	wait(t, done, "history to load")

	if v.count.Text != "3 notifications" || v.list.Length() != 3 {
		t.Fatalf("count %q, rows %d", v.count.Text, v.list.Length())
	}
	rows := map[int]*historyRow{}
	for i := 0; i < 3; i++ {
		r := v.newRow().(*historyRow)
		v.updateRow(i, r)
		rows[i] = r
	}
	// Newest first: the warning, the error (with a link), the old info.
	if rows[0].title.Text != "Sneaky" || rows[0].open.Visible() {
		t.Errorf("row 0: %q, Open visible=%v (file:// must not be offered)", rows[0].title.Text, rows[0].open.Visible())
	}
	if rows[1].title.Text != "Build failed" || rows[1].text.Text != "pipeline #42 failed" ||
		rows[1].when.Text != "13:59:00" || !rows[1].open.Visible() {
		t.Errorf("row 1: %q %q %q open=%v", rows[1].title.Text, rows[1].text.Text, rows[1].when.Text, rows[1].open.Visible())
	}
	if rows[2].title.Text != "Info" || rows[2].when.Text != "25 Nov 13:00" || !rows[2].missed.Visible() || rows[1].missed.Visible() {
		t.Errorf("row 2: title %q when %q missed=%v (row 1: %v)", rows[2].title.Text, rows[2].when.Text, rows[2].missed.Visible(), rows[1].missed.Visible())
	}

	test.Tap(rows[1].open)
	wait(t, done, "open")
	mu.Lock()
	if len(opened) != 1 || opened[0] != "https://ci.example.com/42" {
		t.Errorf("opened %v", opened)
	}
	mu.Unlock()

	// Clear asks first and says what it will do; Cancel keeps everything.
	test.Tap(v.clear)
	if v.confirm == nil {
		t.Fatal("Clear did not ask")
	}
	dlg := w.Canvas().Overlays().Top()
	if !hasLabel(dlg, "Remove all 3 notifications from History? This cannot be undone.") {
		t.Errorf("the question does not say what Clear does: %v", labels(dlg))
	}
	test.Tap(button(t, dlg, "Cancel"))
	if left, _ := store.List(); len(left) != 3 || v.list.Length() != 3 || w.Canvas().Overlays().Top() != nil {
		t.Fatalf("after Cancel: file %d entries, rows %d", len(left), v.list.Length())
	}

	test.Tap(v.clear)
	test.Tap(button(t, w.Canvas().Overlays().Top(), "Remove all"))
	wait(t, done, "clear")
	wait(t, done, "the reload after clear")
	if v.list.Length() != 0 || !v.empty.Visible() || !v.clear.Disabled() {
		t.Errorf("after Clear: rows %d, empty label %v", v.list.Length(), v.empty.Visible())
	}
	if left, _ := store.List(); len(left) != 0 {
		t.Errorf("file still has %d entries", len(left))
	}
}

// A toast the tray records while History is open shows up: the tray's
// store writes the file and sends "reload" down the window's stdin (as
// tray.go wires it), and the window re-reads the file.
func TestHistoryViewShowsToastAddedWhileOpen(t *testing.T) {
	a := &quitApp{App: test.NewTempApp(t), quit: make(chan struct{})}
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.Local)
	path := filepath.Join(t.TempDir(), "history.json")
	stdin, toWindow := io.Pipe()
	seed := history.Open(path, history.Options{})
	seed.Add(history.Entry{Time: now.Add(-time.Hour), Level: wsclient.LevelInfo, Message: "before"})
	if err := seed.Close(); err != nil {
		t.Fatal(err)
	}
	tray := history.Open(path, history.Options{OnWrite: func() { io.WriteString(toWindow, "reload\n") }})
	t.Cleanup(func() { tray.Close() })

	window := history.Open(path, history.Options{}) // the window process's own store
	done := make(chan struct{}, 1)
	ready := make(chan struct{}) // the test driver runs fyne.Do on the caller: load after SetContent
	w := a.NewWindow("History")
	v := newHistoryView(w, HistoryDeps{
		List:  func() ([]history.Entry, error) { <-ready; return window.List() },
		Clear: window.Clear,
		Now:   func() time.Time { return now },
	}, func() { done <- struct{}{} })
	t.Cleanup(v.Close)
	w.SetContent(v.Content())
	close(ready)
	wait(t, done, "history to load")
	if v.list.Length() != 1 {
		t.Fatalf("rows %d, want 1", v.list.Length())
	}
	ran := make(chan error, 1)
	go func() {
		ran <- runWindow(context.Background(), a, w, slog.New(slog.NewTextHandler(io.Discard, nil)), stdin, v.Reload)
	}()

	tray.Add(history.Entry{Time: now, Level: wsclient.LevelError, Title: "Deploy failed", Message: "new"})
	if err := tray.Flush(); err != nil { // returns once the window has read "reload"
		t.Fatal(err)
	}
	wait(t, done, "the reload")
	if v.list.Length() != 2 || v.count.Text != "2 notifications" {
		t.Fatalf("after the tray's write: rows %d, count %q", v.list.Length(), v.count.Text)
	}
	r := v.newRow().(*historyRow)
	v.updateRow(0, r)
	if r.title.Text != "Deploy failed" {
		t.Errorf("newest row %q, want the new toast", r.title.Text)
	}

	// A raise (the user picks the menu item again) also re-reads.
	if err := window.Clear(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(toWindow, "raise\n")
	wait(t, done, "the reload on raise")
	if v.list.Length() != 0 {
		t.Errorf("after a raise: rows %d, want the cleared file's 0", v.list.Length())
	}
	toWindow.Close()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
}

// Loads that overlap show the last one started, whatever order they end
// in: an older read never replaces a newer one.
func TestHistoryViewDropsStaleLoad(t *testing.T) {
	test.NewTempApp(t)
	newer := []history.Entry{{Level: wsclient.LevelInfo, Title: "b"}, {Level: wsclient.LevelInfo, Title: "a"}}
	older := newer[1:]
	var calls atomic.Int32
	entered := make(chan struct{}, 2)
	releaseFirst := make(chan struct{})
	done := make(chan struct{}, 2)
	w := test.NewTempWindow(t, nil)
	v := newHistoryView(w, HistoryDeps{List: func() ([]history.Entry, error) {
		n := calls.Add(1)
		entered <- struct{}{}
		if n == 1 {
			<-releaseFirst
			return older, nil
		}
		return newer, nil
	}}, func() { done <- struct{}{} })
	t.Cleanup(v.Close)
	w.SetContent(v.Content())
	wait(t, entered, "the first load to read")
	v.Reload()
	wait(t, done, "the second load")
	if v.list.Length() != 2 {
		t.Fatalf("rows %d after the second load, want 2", v.list.Length())
	}
	close(releaseFirst)
	wait(t, done, "the first load")
	if v.list.Length() != 2 {
		t.Fatalf("the first (older) load replaced the second: rows %d, want 2", v.list.Length())
	}
}

// Tapping a row shows the whole toast: every line of a long message, the
// title, the level and date, the missed tag and the link with an Open
// button; a link nothing can open says why in the dialog.
func TestHistoryViewDetailShowsWholeMessage(t *testing.T) {
	test.NewTempApp(t)
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.Local)
	long := strings.Repeat("The nightly export failed on shard 7 of 12 while writing customer invoices. ", 30) +
		"\nLast line: retry with --resume."
	entries := []history.Entry{
		{Time: now.Add(-time.Minute), Level: wsclient.LevelError, Title: "Export failed", Message: long,
			URL: "https://ci.example.com/42", Missed: true},
		{Time: now.Add(-2 * time.Minute), Level: wsclient.LevelWarning, Message: "x", URL: "file:///etc/passwd"},
	}
	done := make(chan struct{}, 1)
	ready := make(chan struct{})
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(720, 520))
	v := newHistoryView(w, HistoryDeps{
		List: func() ([]history.Entry, error) { <-ready; return entries, nil },
		Open: func(string) error { return errors.New(`exec: "xdg-open": executable file not found in $PATH`) },
		Now:  func() time.Time { return now },
	}, func() { done <- struct{}{} })
	t.Cleanup(v.Close)
	w.SetContent(v.Content())
	close(ready)
	wait(t, done, "load")

	v.list.Select(0)
	d := v.detail
	if d == nil || w.Canvas().Overlays().Top() == nil {
		t.Fatal("tapping a row showed nothing")
	}
	if d.message.Text != long || d.title.Text != "Export failed" || !d.missed.Visible() ||
		d.when.Text != "Error · Thu 26 Nov 2026 13:59:00" || d.link.Text != "https://ci.example.com/42" || !d.open.Visible() {
		t.Errorf("detail: title %q when %q missed=%v link %q open=%v message of %d bytes (want %d)",
			d.title.Text, d.when.Text, d.missed.Visible(), d.link.Text, d.open.Visible(), len(d.message.Text), len(long))
	}
	if d.message.Wrapping != fyne.TextWrapWord {
		t.Error("the message does not wrap")
	}
	test.Tap(d.open)
	wait(t, done, "open")
	if !d.err.Visible() || !strings.Contains(d.err.Text, "Could not open the link") || !strings.Contains(d.err.Text, "xdg-open") {
		t.Errorf("a link nothing opens gives no visible reason: %q visible=%v", d.err.Text, d.err.Visible())
	}
	if d.err.Size().Height == 0 {
		t.Error("the reason is shown but has no room in the dialog")
	}
	test.Tap(button(t, w.Canvas().Overlays().Top(), "Close"))
	if v.detail != nil || w.Canvas().Overlays().Top() != nil {
		t.Fatal("Close left the detail open")
	}

	// The same row can be shown again; a refused link is shown, not offered.
	v.list.Select(0)
	if v.detail == nil {
		t.Fatal("tapping the row again showed nothing")
	}
	v.detail.dialog.Hide()
	v.list.Select(1)
	if d := v.detail; d == nil || d.open.Visible() || !strings.Contains(d.link.Text, "file:///etc/passwd") || d.missed.Visible() || d.title.Text != "Warning" {
		t.Errorf("refused link: open=%v link %q", d.open.Visible(), d.link.Text)
	}
}

// labels lists the texts of the labels under o.
func labels(o fyne.CanvasObject) []string {
	var out []string
	for _, c := range test.LaidOutObjects(o) {
		if l, ok := c.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return out
}

func hasLabel(o fyne.CanvasObject, text string) bool {
	return slices.Contains(labels(o), text)
}

// button finds the button labelled text under o.
func button(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	if o == nil {
		t.Fatalf("no %q button: nothing shown", text)
	}
	for _, c := range test.LaidOutObjects(o) {
		if b, ok := c.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no %q button", text)
	return nil
}

func TestHistoryViewShowsReadError(t *testing.T) {
	test.NewTempApp(t)
	ready := make(chan struct{})
	done := make(chan struct{}, 1)
	w := test.NewTempWindow(t, nil)
	v := newHistoryView(w, HistoryDeps{
		List: func() ([]history.Entry, error) { <-ready; return nil, errors.New("disk on fire") },
	}, func() { done <- struct{}{} })
	t.Cleanup(v.Close)
	w.SetContent(v.Content())
	close(ready)
	wait(t, done, "load")
	if !v.message.Visible() || v.message.Text != "Could not read the history: disk on fire" || v.message.Size().Height == 0 {
		t.Errorf("message %q visible=%v size %v", v.message.Text, v.message.Visible(), v.message.Size())
	}
	if !v.empty.Visible() {
		t.Error("empty label hidden")
	}
}

func TestParseHTTPURL(t *testing.T) {
	for _, ok := range []string{"https://example.com/x?y=1", "http://127.0.0.1:8000/"} {
		if _, err := parseHTTPURL(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"file:///etc/passwd", "javascript:alert(1)", "https:///nohost", "ms-settings:", "::", "https://www.example.com@evil.example/"} {
		if _, err := parseHTTPURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
