package creds

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

const (
	appID    = "org.toasttray.ToastTray"
	site     = "https://www.example.com"
	password = "correct horse battery staple"
)

func TestRoundTrip(t *testing.T) {
	keyring.MockInit()
	s := Store{Service: appID}
	if _, err := s.Load(site, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty keyring: %v", err)
	}
	want := wsclient.Credentials{Username: "alice", Password: password}
	if err := s.Save(site, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(site+"/", " alice ")
	if err != nil || got != want {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	sess := wsclient.Credentials{SessionID: "abcdefghijklmnopqrstuvwxyz012345", CSRFToken: strings.Repeat("Z", 64)}
	if err := s.Save(site, sess); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Load(site, ""); got != sess {
		t.Fatalf("session creds: %+v", got)
	}
	// The stored value is JSON of the secrets only.
	raw, _ := keyring.Get(appID, Account(site, "alice"))
	if raw != `{"password":"correct horse battery staple"}` {
		t.Fatalf("stored value %q", raw)
	}
	if err := s.Delete(site, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(site, "alice"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Load(site, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// The worst credential Check lets through (every byte escaped by JSON to
// six bytes, cookies at their maximum) fits Windows Credential Manager's
// 2,560-byte blob limit.
func TestLargestCredentialFitsWindowsLimit(t *testing.T) {
	worst := wsclient.Credentials{
		Password:  strings.Repeat("\x01", MaxPasswordLen), // → \u0001 each
		SessionID: strings.Repeat("a", MaxCookieLen),
		CSRFToken: strings.Repeat("b", MaxCookieLen),
	}
	for _, pw := range []string{strings.Repeat("\x01", MaxPasswordLen), strings.Repeat("\"", MaxPasswordLen), strings.Repeat("<", MaxPasswordLen), strings.Repeat("\xff", MaxPasswordLen)} {
		worst.Password = pw
		v, err := encode(worst)
		if err != nil {
			t.Fatalf("largest allowed credential refused: %v", err)
		}
		if len(v) > 2560 {
			t.Fatalf("encoded %d bytes > 2560", len(v))
		}
		t.Logf("worst case %q…: %d bytes", pw[:1], len(v))
	}
	worst.Password = strings.Repeat("x", MaxPasswordLen+1)
	if err := Check(worst); !errors.Is(err, ErrInvalid) {
		t.Fatalf("over-long password accepted: %v", err)
	}
	if err := Check(wsclient.Credentials{SessionID: "abc; evil=1"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("cookie with ; accepted: %v", err)
	}
}

func TestKeyringUnavailable(t *testing.T) {
	keyring.MockInitWithError(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	s := Store{Service: appID}
	err := s.Save(site, wsclient.Credentials{Username: "alice", Password: password})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Save: %v", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Fatalf("secret in error: %v", err)
	}
	if !strings.Contains(err.Error(), "org.freedesktop.secrets") || !strings.Contains(err.Error(), "keyring") {
		t.Fatalf("error does not say why: %v", err)
	}
	if _, err := s.Load(site, "alice"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Load: %v", err)
	}
	if err := s.Delete(site, "alice"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Delete: %v", err)
	}
}

func TestDamagedEntryErrorHasNoSecret(t *testing.T) {
	keyring.MockInit()
	keyring.Set(appID, Account(site, "alice"), "not-json "+password)
	_, err := Store{Service: appID}.Load(site, "alice")
	if err == nil || strings.Contains(err.Error(), password) {
		t.Fatalf("err = %v", err)
	}
}

type failingSaver struct{ err error }

func (f failingSaver) Save(settings.Settings) error { return f.err }

func newSettings() settings.Settings {
	s := settings.Default()
	s.SiteURL, s.WSURL, s.Username = site, "wss://ws.example.com/prod", "alice"
	return s
}

func TestSaveAll(t *testing.T) {
	keyring.MockInit()
	cs := Store{Service: appID}
	st := settings.Store{Path: filepath.Join(t.TempDir(), "settings.json")}
	set := newSettings()
	if err := cs.SaveAll(st, set, wsclient.Credentials{Password: password}); err != nil {
		t.Fatal(err)
	}
	got, _, err := st.Load()
	if err != nil || got.SiteURL != site {
		t.Fatalf("settings not saved: %+v %v", got, err)
	}
	c, err := cs.Load(site, "alice")
	if err != nil || c.Password != password {
		t.Fatalf("creds not saved: %v", err)
	}
	// Never a secret in the settings file.
	data, _ := os.ReadFile(st.Path)
	if bytes.Contains(data, []byte(password)) {
		t.Fatalf("password in settings file:\n%s", data)
	}
	// Empty credentials delete the entry (remember password unticked).
	if err := cs.SaveAll(st, set, wsclient.Credentials{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Load(site, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("entry kept: %v", err)
	}
}

// Keyring write fails → the settings file is untouched.
func TestSaveAllKeyringFailsKeepsSettings(t *testing.T) {
	st := settings.Store{Path: filepath.Join(t.TempDir(), "settings.json")}
	old := newSettings()
	old.Channel = "old"
	if err := st.Save(old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(st.Path)
	keyring.MockInitWithError(errors.New("dbus: connection refused"))
	set := newSettings()
	set.Channel = "new"
	err := Store{Service: appID}.SaveAll(st, set, wsclient.Credentials{Password: password})
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), password) {
		t.Fatalf("err = %v", err)
	}
	after, _ := os.ReadFile(st.Path)
	if !bytes.Equal(before, after) {
		t.Fatalf("settings changed although the keyring failed:\n%s", after)
	}
}

// Settings write fails → the previous keyring entry is restored (or the
// new one removed when there was none).
func TestSaveAllSettingsFailRestoresKeyring(t *testing.T) {
	keyring.MockInit()
	cs := Store{Service: appID}
	boom := errors.New("disk full")
	if err := cs.Save(site, wsclient.Credentials{Username: "alice", Password: "old-password"}); err != nil {
		t.Fatal(err)
	}
	err := cs.SaveAll(failingSaver{boom}, newSettings(), wsclient.Credentials{Password: password})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if c, _ := cs.Load(site, "alice"); c.Password != "old-password" {
		t.Fatal("previous password not restored")
	}
	set := newSettings()
	set.Username = "bob"
	if err := cs.SaveAll(failingSaver{boom}, set, wsclient.Credentials{Password: password}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := cs.Load(site, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("new entry left behind: %v", err)
	}
}

// Credentials log redacted (wsclient's LogValue/String), and nothing this
// package logs or returns carries them.
func TestSecretsNotLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	c := wsclient.Credentials{Username: "alice", Password: password, SessionID: "sess1234567890", CSRFToken: "csrf1234567890"}
	log.Info("creds", "c", c)
	for _, s := range []string{password, c.SessionID, c.CSRFToken} {
		if strings.Contains(buf.String(), s) {
			t.Fatalf("secret logged: %s", buf.String())
		}
	}
}
