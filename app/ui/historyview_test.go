package ui

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

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
	v := newHistoryView(HistoryDeps{
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
	w := test.NewTempWindow(t, v.Content())
	w.Resize(fyne.NewSize(720, 520))
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

	test.Tap(v.clear)
	wait(t, done, "clear")
	if v.list.Length() != 0 || !v.empty.Visible() || !v.clear.Disabled() {
		t.Errorf("after Clear: rows %d, empty label %v", v.list.Length(), v.empty.Visible())
	}
	if left, _ := store.List(); len(left) != 0 {
		t.Errorf("file still has %d entries", len(left))
	}
}

func TestHistoryViewShowsReadError(t *testing.T) {
	test.NewTempApp(t)
	ready := make(chan struct{})
	done := make(chan struct{}, 1)
	v := newHistoryView(HistoryDeps{
		List: func() ([]history.Entry, error) { <-ready; return nil, errors.New("disk on fire") },
	}, func() { done <- struct{}{} })
	t.Cleanup(v.Close)
	test.NewTempWindow(t, v.Content())
	close(ready)
	wait(t, done, "load")
	if !v.message.Visible() || v.message.Text != "Could not read the history: disk on fire" {
		t.Errorf("message %q visible=%v", v.message.Text, v.message.Visible())
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
