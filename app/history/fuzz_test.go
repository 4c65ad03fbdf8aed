package history

// Fuzz target for the file the history lives in (what the server puts into
// an entry is bounded where the toast is decoded: wsclient's FuzzToastFields):
//
//	go test -run '^$' -fuzz '^FuzzHistoryFile$' -fuzztime 60s ./app/history

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/toasttray/toasttray/wsclient/clock"
)

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
