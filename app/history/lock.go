package history

import (
	"fmt"
	"os"
	"path/filepath"
)

// lock takes the lock shared by every process that writes the history: an
// exclusive lock on the file path+".lock" (flock on Unix, LockFileEx on
// Windows; both are dropped by the OS if the process dies). The history
// file itself cannot carry the lock, since each write renames a new file
// over it. The lock file is never removed: removing it would let two
// processes lock different files.
func (s *Store) lock() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, fmt.Errorf("locking notification history: %w", err)
	}
	f, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking notification history: %w", err)
	}
	if s.beforeLock != nil {
		s.beforeLock()
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking notification history %s: %w", f.Name(), err)
	}
	return func() {
		if err := unlockFile(f); err != nil {
			s.opts.Logger.Warn("unlocking notification history", "err", err)
		}
		f.Close()
	}, nil
}
