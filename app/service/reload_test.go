package service

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// saveSettings writes set where Reload reads it.
func saveSettings(t *testing.T, set settings.Settings) settings.Store {
	t.Helper()
	store := settings.Store{Path: filepath.Join(t.TempDir(), settings.FileName)}
	if err := store.Save(set); err != nil {
		t.Fatal(err)
	}
	return store
}

func demoCreds(_, user string) (wsclient.Credentials, error) {
	return wsclient.Credentials{Username: user, Password: wstest.DemoPassword}, nil
}

// Reloads at once (say the Settings window closing while Reconnect
// restarts a client that gave up) restart the client once and spend one
// token: "compare, restart, record" is one step. The first Reload is held
// inside that step (in its credentials read) until the others have been
// started; without the lock they read credentials beside it (overlap) or
// compare before it records and restart again.
func TestConcurrentReloadsRestartOnce(t *testing.T) {
	// Nothing shows that a Reload waits for the lock, so the others are
	// only known to have started when the first goes on; with four of them
	// a missing lock shows every time (300 of 300 runs), with one it did
	// in about 2 of 3.
	const others = 4
	srv := wstest.NewServer(wstest.Options{})
	defer srv.Close()
	set := demoSettings(srv)
	store := saveSettings(t, set)
	held, release := make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	var inside, overlap atomic.Int32
	statuses := make(statusWaiter, 100)
	s := New(Options{Settings: store, Watchers: []wsclient.Watcher{}, OnStatus: statuses.on,
		Credentials: func(site, user string) (wsclient.Credentials, error) {
			if inside.Add(1) > 1 {
				overlap.Add(1)
			}
			defer inside.Add(-1)
			if armed.CompareAndSwap(true, false) {
				close(held)
				<-release
			}
			return demoCreds(site, user)
		}})
	defer s.Stop()
	s.Reload()
	statuses.waitFor(t, wsclient.StateConnected)

	set.Channel = "other" // a change that needs a new connection: every reload sees it
	if err := store.Save(set); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	var wg sync.WaitGroup
	wg.Add(1 + others)
	go func() { defer wg.Done(); s.Reload() }()
	<-held
	for range others {
		started := make(chan struct{})
		go func() { defer wg.Done(); close(started); s.Reload() }()
		<-started
	}
	close(release)
	wg.Wait()
	statuses.waitFor(t, wsclient.StateConnected)
	if n := overlap.Load(); n != 0 {
		t.Fatalf("%d credential reads while another Reload was in its critical section", n)
	}
	if got := s.gen.Load(); got != 2 {
		t.Fatalf("%d restarts, want 2 (the first Reload and one of the %d at once)", got, 1+others)
	}
	if got := srv.Counters().TokensIssued; got != 2 {
		t.Fatalf("%d tokens fetched, want 2", got)
	}
}

// Changing only the minimum level and the sound in Settings applies them to
// the running client: no new token, no new connection, and the next toasts
// follow them. Changing the site still restarts, on the new site.
func TestReloadAppliesLevelAndSoundLive(t *testing.T) {
	srv := wstest.NewServer(wstest.Options{})
	defer srv.Close()
	set := demoSettings(srv) // min level info, sound on errors
	store := saveSettings(t, set)
	fn := &fakeNotifier{ch: make(chan notify.Notification, 10)}
	statuses := make(statusWaiter, 100)
	s := New(Options{Settings: store, Credentials: demoCreds, Notifier: fn, OnStatus: statuses.on,
		Watchers: []wsclient.Watcher{}, Gate: notify.GateOptions{Burst: 100}})
	defer s.Stop()
	s.Reload()
	statuses.waitFor(t, wsclient.StateConnected)
	srv.Push("", wstest.DemoToast(1)) // info
	srv.Push("", wstest.DemoToast(3)) // error
	if n := fn.next(t); n.Level != wsclient.LevelInfo {
		t.Fatalf("popup %+v, want the info toast", n)
	}
	if n := fn.next(t); n.Level != wsclient.LevelError || !n.Sound {
		t.Fatalf("popup %+v, want the error with a sound", n)
	}

	set.MinLevel, set.SoundOnError = wsclient.LevelWarning, false
	if err := store.Save(set); err != nil {
		t.Fatal(err)
	}
	s.Reload()
	if got := s.gen.Load(); got != 1 {
		t.Fatalf("%d restarts after changing the level and sound, want 1 (the first Reload)", got)
	}
	if c := srv.Counters(); c.TokensIssued != 1 || c.Connects != 1 {
		t.Fatalf("%d tokens, %d connects after changing the level and sound, want 1 and 1", c.TokensIssued, c.Connects)
	}
	// In order on the same connection: a popup of the info toast would
	// come before the error's.
	srv.Push("", wstest.DemoToast(5)) // info: below the new level
	srv.Push("", wstest.DemoToast(7)) // error
	srv.Push("", wstest.DemoToast(6)) // warning
	if n := fn.next(t); n.Level != wsclient.LevelError || n.Sound {
		t.Fatalf("popup %+v, want the error without a sound", n)
	}
	if n := fn.next(t); n.Level != wsclient.LevelWarning {
		t.Fatalf("popup %+v, want the warning", n)
	}

	srv2 := wstest.NewServer(wstest.Options{})
	defer srv2.Close()
	set.SiteURL, set.WSURL = srv2.URL, srv2.WSURL
	if err := store.Save(set); err != nil {
		t.Fatal(err)
	}
	s.Reload()
	for srv2.Counters().Connects < 1 {
		statuses.waitFor(t, wsclient.StateConnected)
	}
	if c := srv2.Counters(); c.TokensIssued != 1 || c.Connects != 1 {
		t.Fatalf("new site: %d tokens, %d connects, want 1 and 1", c.TokensIssued, c.Connects)
	}
	s.Stop()
	fn.none(t)
}

// A Restart that failed is not recorded as running: the next Reload of
// the same settings tries again. Here the CA file turns bad between the
// settings check and the client's own (an admin replacing the bundle).
func TestReloadRetriesAfterFailedRestart(t *testing.T) {
	srv := wstest.NewServer(wstest.Options{TLS: true})
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, srv.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	set := demoSettings(srv)
	set.CAFile = caFile
	store := saveSettings(t, set)
	first := true
	statuses := make(statusWaiter, 100)
	s := New(Options{Settings: store, Watchers: []wsclient.Watcher{}, OnStatus: statuses.on,
		Credentials: func(site, user string) (wsclient.Credentials, error) {
			if first {
				first = false
				if err := os.WriteFile(caFile, []byte("not a certificate"), 0o600); err != nil {
					return wsclient.Credentials{}, err
				}
			}
			return demoCreds(site, user)
		}})
	defer s.Stop()

	if tg := s.Reload(); !tg.Configured {
		t.Fatalf("target %+v", tg)
	}
	if st := statuses.waitFor(t, wsclient.StateStopped); !strings.Contains(st.Err, "ca_file") {
		t.Fatalf("status %+v, want the CA file's error", st)
	}
	if err := os.WriteFile(caFile, srv.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Reload()
	statuses.waitFor(t, wsclient.StateConnected)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// Forget credentials: SignOut stops the client, and the reload after the
// Settings window closes (no credentials now, same settings) starts none.
func TestReloadAfterSignOutStartsNothing(t *testing.T) {
	srv := wstest.NewServer(wstest.Options{})
	defer srv.Close()
	store := saveSettings(t, demoSettings(srv))
	var mu sync.Mutex
	forgotten := false
	statuses := make(statusWaiter, 100)
	s := New(Options{Settings: store, Watchers: []wsclient.Watcher{}, OnStatus: statuses.on,
		Credentials: func(site, user string) (wsclient.Credentials, error) {
			mu.Lock()
			defer mu.Unlock()
			if forgotten {
				return wsclient.Credentials{}, nil
			}
			return demoCreds(site, user)
		}})
	defer s.Stop()
	s.Reload()
	statuses.waitFor(t, wsclient.StateConnected)
	mu.Lock()
	forgotten = true
	mu.Unlock()
	s.SignOut("The saved credentials were deleted.")
	s.Reload()
	if got := s.gen.Load(); got != 2 { // Reload's Restart, SignOut's stop
		t.Fatalf("generation %d: Reload restarted after SignOut", got)
	}
	if !errors.Is(s.Err(), wsclient.ErrSignedOut) {
		t.Fatalf("Err() = %v", s.Err())
	}
}

// A keyring that cannot be read shows up as the reason in the target, not
// leave the user guessing why the client is signed out; nothing saved is
// not a problem.
func TestReloadReportsUnreadableCredentials(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		problem string
	}{
		{"keyring locked", errors.New("the keyring is locked"), "the keyring is locked"},
		{"nothing saved", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := settings.Default()
			set.SiteURL, set.WSURL, set.Username = "http://127.0.0.1:1", "ws://127.0.0.1:1/prod", "alice"
			s := New(Options{Settings: saveSettings(t, set), Watchers: []wsclient.Watcher{},
				Credentials: func(string, string) (wsclient.Credentials, error) { return wsclient.Credentials{}, tc.err }})
			defer s.Stop()
			got := s.Reload()
			if !got.Configured || got.Site != "127.0.0.1:1" || got.CredsProblem != tc.problem {
				t.Fatalf("target = %+v, want the saved site, configured, problem %q", got, tc.problem)
			}
		})
	}
}
