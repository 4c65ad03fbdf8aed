// Package history keeps the last toasts so the history window can show
// what popped up (or was filtered) while the user was away.
//
// The file is the source of truth, because two processes use it: the tray
// process adds entries, and the short-lived history window lists and clears
// them. Add only queues in memory; a debounced flush merges the queue into
// the file, so a flood of toasts costs one write per Debounce, not one per
// toast, and a Clear from the window is not undone by the tray's next write.
// The read-merge-write and the Clear hold a lock on a file next to it
// (history.json.lock, see lock.go), so a Clear cannot land between the
// tray's read and its write and be overwritten.
package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/app/settings/atomicfile"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// MaxEntries is what the window shows. An entry's text is as wsclient
// decoded and bounded it, so the file stays small however large the
// server's strings are.
const MaxEntries = 200

// DefaultDebounce is how long Add waits before writing, collecting the rest
// of a burst into the same write.
const DefaultDebounce = 2 * time.Second

// FileName is the history file's name inside settings.ConfigDir().
const FileName = "history.json"

// Entry is one recorded toast.
type Entry struct {
	Time    time.Time      `json:"time"`
	Level   wsclient.Level `json:"level"`
	Title   string         `json:"title,omitempty"`
	Message string         `json:"message"`
	URL     string         `json:"url,omitempty"`
	Missed  bool           `json:"missed,omitempty"` // came with a catch-up backlog, not live
}

// FromToast records t as received at at.
func FromToast(t wsclient.Toast, at time.Time) Entry {
	return Entry{Time: at, Level: t.Level, Title: t.Title, Message: t.Message, URL: t.URL, Missed: t.Catchup}
}

// OpenURL returns the entry's link if the window may offer to open it
// (wsclient.LinkURL: also for entries written by older versions).
func (e Entry) OpenURL() (string, bool) { return wsclient.LinkURL(e.URL) }

// DefaultPath is settings.ConfigDir()/history.json (so TOASTTRAY_CONFIG_DIR
// moves it too).
func DefaultPath() (string, error) {
	d, err := settings.ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, FileName), nil
}

// Options tune a Store; the zero value is fine.
type Options struct {
	Clock    clock.Clock   // default clock.Real
	Logger   *slog.Logger  // default slog.Default()
	Debounce time.Duration // default DefaultDebounce
	Max      int           // default MaxEntries
	// OnWrite, if set, is called after each write of the file by this
	// store (a flush or a Clear), outside the file's locks: the tray uses
	// it to tell an open History window to re-read the file. It must not
	// block nor call Flush (a flush's OnWrite runs before Flush returns).
	OnWrite func()
}

// Store is the history at one path. It is safe for concurrent use. Call
// Close (or Flush) before exit, or the last Debounce of entries is lost.
type Store struct {
	path string
	opts Options

	io sync.Mutex // serialises file read-merge-write, List and Clear

	// Test hooks, nil outside tests: Flush has read the file and not yet
	// written it; lock is about to wait for the file lock.
	afterRead, beforeLock func()

	saver *atomicfile.Debounced // runs Flush Debounce after an Add

	mu      sync.Mutex
	pending []Entry // oldest first; not yet in the file
	closed  bool
	writes  atomic.Int64 // file writes, for tests and benchmarks
}

// Open returns the store at path. It does no I/O; a missing file is an
// empty history.
func Open(path string, opts Options) *Store {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Max <= 0 {
		opts.Max = MaxEntries
	}
	s := &Store{path: path, opts: opts}
	s.saver = atomicfile.NewDebounced(s.save, opts.Debounce, opts.Clock, func(err error) {
		opts.Logger.Warn("writing notification history", "err", err)
	})
	return s
}

// Path is the file the store reads and writes.
func (s *Store) Path() string { return s.path }

// Add records e. It never blocks on I/O: the
// write happens Debounce later, on a goroutine that ends after it.
// After Close, Add does nothing.
func (s *Store) Add(e Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.pending = append(s.pending, e)
	if len(s.pending) >= 2*s.opts.Max { // keep memory bounded in a flood
		s.pending = append([]Entry(nil), s.pending[len(s.pending)-s.opts.Max:]...)
	}
	s.saver.Changed()
}

// List returns the recorded entries, newest first, at most Max.
func (s *Store) List() ([]Entry, error) {
	s.io.Lock()
	defer s.io.Unlock()
	file, err := s.read()
	s.mu.Lock()
	out := merge(s.pending, file, s.opts.Max)
	s.mu.Unlock()
	return out, err
}

// Flush writes queued entries to the file now.
func (s *Store) Flush() error { return s.saver.Flush() }

// save merges the queue into the file (saver's save).
func (s *Store) save() error {
	wrote, err := s.flush()
	if wrote {
		s.wrote()
	}
	return err
}

// flush is Flush under the locks; it reports whether it wrote the file.
func (s *Store) flush() (bool, error) {
	s.io.Lock()
	defer s.io.Unlock()
	s.mu.Lock()
	none := len(s.pending) == 0
	s.mu.Unlock()
	if none {
		return false, nil
	}
	unlock, err := s.lock()
	if err != nil {
		return false, err // the entries stay queued for the next flush
	}
	defer unlock()
	s.mu.Lock()
	taken := s.pending
	s.pending = nil
	s.mu.Unlock()
	file, err := s.read()
	if err != nil {
		// A damaged file is replaced rather than blocking history forever.
		s.opts.Logger.Warn("notification history file unreadable; starting a new one", "path", s.path, "err", err)
	}
	if s.afterRead != nil {
		s.afterRead()
	}
	if err := s.write(merge(taken, file, s.opts.Max)); err != nil {
		s.mu.Lock()
		s.pending = append(taken, s.pending...) // retry with the next flush
		s.mu.Unlock()
		return false, err
	}
	return true, nil
}

// Clear empties the history, in memory and on disk.
func (s *Store) Clear() error {
	err := s.clear()
	if err == nil {
		s.wrote()
	}
	return err
}

func (s *Store) clear() error {
	s.io.Lock()
	defer s.io.Unlock()
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	s.mu.Lock()
	s.pending = nil
	s.mu.Unlock()
	return s.write(nil)
}

// Close flushes and stops the pending flush goroutine. Later Adds are
// dropped. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return s.saver.Close()
}

func (s *Store) wrote() {
	if s.opts.OnWrite != nil {
		s.opts.OnWrite()
	}
}

// file is the on-disk format; the version lets a later format migrate.
type file struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"` // newest first
}

func (s *Store) read() ([]Entry, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading notification history: %w", err)
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading notification history %s: %w", s.path, err)
	}
	return f.Entries, nil
}

func (s *Store) write(entries []Entry) error {
	if entries == nil {
		entries = []Entry{}
	}
	data, err := json.Marshal(file{Version: 1, Entries: entries})
	if err != nil {
		return fmt.Errorf("writing notification history: %w", err)
	}
	s.writes.Add(1)
	if err := atomicfile.Write(s.path, data, 0o600); err != nil {
		return fmt.Errorf("writing notification history: %w", err)
	}
	return nil
}

// merge returns pending (oldest first) reversed, then file (newest first),
// cut to max.
func merge(pending, file []Entry, max int) []Entry {
	out := make([]Entry, 0, min(max, len(pending)+len(file)))
	for i := len(pending) - 1; i >= 0 && len(out) < max; i-- {
		out = append(out, pending[i])
	}
	for _, e := range file {
		if len(out) >= max {
			break
		}
		out = append(out, e)
	}
	return out
}
