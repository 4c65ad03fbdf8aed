package history

// Fuzz targets for what the server puts into the history and for the file
// the history lives in:
//
//	go test -run '^$' -fuzz '^FuzzFromToast$' -fuzztime 60s ./app/history
//	go test -run '^$' -fuzz '^FuzzHistoryFile$' -fuzztime 60s ./app/history

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// FuzzFromToast: an entry is bounded, keeps valid UTF-8 valid, and only
// offers http(s) links to open.
func FuzzFromToast(f *testing.F) {
	f.Add("t", "m", "https://example.com/x")
	f.Add(strings.Repeat("é", 200), strings.Repeat("ü", 3000), "javascript:alert(1)")
	f.Add("", "", "file:///etc/passwd")
	f.Add("x", "y", "https://"+strings.Repeat("a", 3000))
	f.Add("\xff", "\xfe", "HTTP://EXAMPLE.COM")
	f.Fuzz(func(t *testing.T, title, message, link string) {
		e := FromToast(wsclient.Toast{Level: wsclient.LevelInfo, Title: title, Message: message, URL: link}, t0)
		if len(e.Title) > MaxTitleLen || len(e.Message) > MaxMessageLen || len(e.URL) > wsclient.MaxURLLen {
			t.Fatalf("entry over the limits: %d %d %d", len(e.Title), len(e.Message), len(e.URL))
		}
		if utf8.ValidString(title) && !utf8.ValidString(e.Title) || utf8.ValidString(message) && !utf8.ValidString(e.Message) {
			t.Fatal("truncation split a rune")
		}
		if !strings.HasPrefix(title, e.Title) || !strings.HasPrefix(message, e.Message) {
			t.Fatal("entry text is not a prefix of the toast's")
		}
		if u, ok := e.OpenURL(); ok {
			l := strings.ToLower(u)
			if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
				t.Fatalf("OpenURL offers %q", u)
			}
		}
	})
}

// FuzzHistoryFile: a damaged or foreign history file never stops the
// history: List does not panic, and the next flush writes a readable file
// that holds the new entry.
func FuzzHistoryFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"entries":[{"time":"2026-11-26T10:00:00Z","level":"info","message":"m"}]}`))
	f.Add([]byte(`{"version":1,"entries":[{"time":"2026-11-26T10:00:00Z","level":"info","message":"m"`))
	f.Add([]byte(`{"version":99,"entries":{"a":1}}`))
	f.Add([]byte(`null`))
	f.Add([]byte("\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s := Open(p, Options{Clock: clock.NewFake(t0), Logger: slog.New(slog.DiscardHandler)})
		defer s.Close()
		_, _ = s.List()
		s.Add(entry(1))
		if err := s.Flush(); err != nil {
			t.Fatalf("flush over a damaged file: %v", err)
		}
		got, err := s.List()
		if err != nil {
			t.Fatalf("list after flush: %v", err)
		}
		if len(got) == 0 || got[0].Title != "t1" || len(got) > MaxEntries {
			t.Fatalf("after flush: %d entries, first %+v", len(got), got)
		}
	})
}
