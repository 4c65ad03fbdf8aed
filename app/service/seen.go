package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/toasttray/toasttray/app/settings/atomicfile"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// SeenFileName is the catch-up state file's name, next to the history.
const SeenFileName = "catchup.json"

// Bounds. maxRecent ids are remembered to drop copies that arrive out of
// order (a live toast before the catch-up backlog that also holds it, the
// two connections of a rotation); ids are increasing per site, so one
// evicted from the set raises the floor below which every id counts as
// seen. seenDebounce coalesces the writes of a burst into one.
const (
	maxRecent    = 1024
	seenDebounce = 2 * time.Second
)

// seenStore makes toasts with an id exactly-once, and keeps the last id
// seen per site + user + channel in a small JSON file so that catch-up
// asks for the right backlog after an app restart. Safe for concurrent use.
type seenStore struct {
	path  string // "" = in memory only
	log   *slog.Logger
	saver *atomicfile.Debounced // writes last, seenDebounce after a change

	mu     sync.Mutex
	last   map[string]string // key → last id; the file's content
	loaded bool
	key    string              // the current site + user + channel
	recent map[string]struct{} // ids seen for key, at most maxRecent
	order  []string            // recent in arrival order
	floor  string              // ids at or below it are seen
}

func newSeenStore(path string, clk clock.Clock, log *slog.Logger) *seenStore {
	s := &seenStore{path: path, log: log, last: map[string]string{}}
	s.saver = atomicfile.NewDebounced(s.save, seenDebounce, clk, func(err error) {
		log.Warn("saving the catch-up state", "err", err)
	})
	return s
}

// seenKey names one site + user + channel.
func seenKey(site, user, channel string) string { return site + " " + user + " #" + channel }

// use makes key current and returns its last id, the catch-up "since".
// The recent set starts over only when the key changes.
func (s *seenStore) use(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		s.loaded = true
		if err := s.readLocked(); err != nil {
			s.log.Warn("catch-up state unreadable; starting from scratch", "err", err)
		}
	}
	if key != s.key || s.recent == nil {
		s.key, s.recent, s.order, s.floor = key, map[string]struct{}{}, nil, s.last[key]
	}
	return s.last[key]
}

// admit reports whether the toast with this id (wsclient.Toast.ID: a
// decimal one without leading zeros) is new, and records it.
func (s *seenStore) admit(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.recent[id]; dup || wsclient.CompareIDs(id, s.floor) <= 0 {
		return false
	}
	s.recent[id] = struct{}{}
	s.order = append(s.order, id)
	if len(s.order) > maxRecent {
		old := s.order[0]
		s.order = s.order[1:]
		delete(s.recent, old)
		if wsclient.CompareIDs(old, s.floor) > 0 {
			s.floor = old
		}
	}
	s.advanceLocked(id)
	return true
}

// advance moves the last id forward, as a catch-up terminator's "last"
// does; it never moves back.
func (s *seenStore) advance(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(id)
}

func (s *seenStore) advanceLocked(id string) {
	if wsclient.CompareIDs(id, s.last[s.key]) <= 0 {
		return
	}
	s.last[s.key] = id
	if s.path != "" {
		s.saver.Changed()
	}
}

// save writes the file. The mutex is held across the write: it is small,
// and at most one write per seenDebounce happens.
func (s *seenStore) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := json.Marshal(seenFile{Version: 1, Last: s.last})
	if err != nil {
		return fmt.Errorf("saving the catch-up state: %w", err)
	}
	if err := atomicfile.Write(s.path, data, 0o600); err != nil {
		return fmt.Errorf("saving the catch-up state: %w", err)
	}
	return nil
}

// close writes what is pending and ends the saver's goroutine.
func (s *seenStore) close() error { return s.saver.Close() }

// seenFile is the on-disk format.
type seenFile struct {
	Version int               `json:"version"`
	Last    map[string]string `json:"last"` // seenKey → last id
}

func (s *seenStore) readLocked() error {
	if s.path == "" {
		return nil
	}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the catch-up state: %w", err)
	}
	var f seenFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("reading the catch-up state %s: %w", s.path, err)
	}
	for k, v := range f.Last {
		s.last[k] = v
	}
	return nil
}
