package service

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// Ids are admitted once, also out of order; a burst is written once,
// after the debounce, and a new store starts from the file.
func TestSeenStore(t *testing.T) {
	clk := clock.NewFake(t0)
	path := filepath.Join(t.TempDir(), SeenFileName)
	s := newSeenStore(path, clk, slog.Default())
	if since := s.use("k"); since != "" {
		t.Fatalf("since %q", since)
	}
	for i := 1; i <= 100; i++ {
		if !s.admit(strconv.Itoa(i)) {
			t.Fatalf("id %d refused", i)
		}
	}
	if s.admit("100") {
		t.Fatal("a seen id admitted again")
	}
	if !s.admit("102") || !s.admit("101") || s.admit("101") {
		t.Fatal("out-of-order ids")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("written before the debounce: %v", err)
	}
	clk.BlockUntil(1, nil)
	clk.Advance(seenDebounce)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	var f seenFile
	if err != nil || json.Unmarshal(data, &f) != nil || f.Last["k"] != "102" {
		t.Fatalf("file %s (%v)", data, err)
	}

	s = newSeenStore(path, clk, slog.Default())
	if since := s.use("k"); since != "102" {
		t.Fatalf("since after a restart %q", since)
	}
	if s.admit("7") || !s.admit("103") {
		t.Fatal("floor after a restart")
	}
	if since := s.use("other"); since != "" || !s.admit("7") {
		t.Fatalf("another site/user/channel: since %q", since)
	}
	// The set is bounded: ids evicted from it count as seen.
	for i := 1000; i < 1000+maxRecent+1; i++ {
		s.admit(strconv.Itoa(i))
	}
	if len(s.recent) != maxRecent || s.admit("1000") || !s.admit("999999") {
		t.Fatalf("bounded set: %d ids", len(s.recent))
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
}
