// Package creds keeps ToastTray's secrets (password, session cookies) in
// the OS keyring, never in files: the Secret Service on Linux, Credential
// Manager on Windows, the Keychain on macOS.
//
// There is one keyring entry per site and user: service = the app ID,
// account = "<site URL>|<username>", value = a small JSON object holding only
// the secrets.
package creds

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/zalando/go-keyring"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

// Limits on what is stored. MaxValueLen is Windows Credential Manager's
// limit on a credential blob; the field limits keep the worst case (every
// byte JSON-escaped to six) below it, which a test checks.
const (
	MaxValueLen     = 2560
	MaxPasswordLen  = 256 // bytes
	MaxCookieLen    = 128 // bytes, each of sessionid and csrftoken
	maxAccountBytes = 500 // Windows limits the target name; keep well clear
)

var (
	// ErrNotFound means no credentials are stored for this site and user.
	ErrNotFound = errors.New("no saved credentials")
	// ErrUnavailable means the keyring could not be used at all (no Secret
	// Service running, keychain locked, access denied…).
	ErrUnavailable = errors.New("the system keyring is not available")
	// ErrInvalid means the credentials cannot be stored as given.
	ErrInvalid = errors.New("invalid credentials")
)

// Store is the keyring for one app ID.
type Store struct {
	Service string // keyring service: the app ID, e.g. org.toasttray.ToastTray
}

// Account is the keyring account name for a site and user. A trailing
// slash on the site does not make a second entry.
func Account(siteURL, username string) string {
	return strings.TrimRight(strings.TrimSpace(siteURL), "/") + "|" + strings.TrimSpace(username)
}

// secret is the stored JSON. Only secrets; the username is in the account.
type secret struct {
	Password  string `json:"password,omitempty"`
	SessionID string `json:"sessionid,omitempty"`
	CSRFToken string `json:"csrftoken,omitempty"`
}

// Empty reports whether c holds no secret at all.
func Empty(c wsclient.Credentials) bool {
	return c.Password == "" && c.SessionID == "" && c.CSRFToken == ""
}

// Check reports why c cannot be stored, or nil. Cookie values must be
// cookie-safe (they go into a Cookie header); the password may be any text
// up to MaxPasswordLen bytes. The error names the field, never the value.
func Check(c wsclient.Credentials) error {
	if len(c.Password) > MaxPasswordLen {
		return fmt.Errorf("%w: password longer than %d bytes", ErrInvalid, MaxPasswordLen)
	}
	for _, f := range []struct{ name, v string }{{"sessionid", c.SessionID}, {"csrftoken", c.CSRFToken}} {
		if len(f.v) > MaxCookieLen {
			return fmt.Errorf("%w: %s longer than %d characters", ErrInvalid, f.name, MaxCookieLen)
		}
		if strings.IndexFunc(f.v, notCookieChar) >= 0 {
			return fmt.Errorf("%w: %s contains characters a cookie cannot hold", ErrInvalid, f.name)
		}
	}
	return nil
}

// notCookieChar is RFC 6265's cookie-octet complement.
func notCookieChar(r rune) bool {
	return r > unicode.MaxASCII || r <= ' ' || r == '"' || r == ',' || r == ';' || r == '\\' || r == 0x7f
}

func encode(c wsclient.Credentials) (string, error) {
	if err := Check(c); err != nil {
		return "", err
	}
	b, err := json.Marshal(secret{Password: c.Password, SessionID: c.SessionID, CSRFToken: c.CSRFToken})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(b) > MaxValueLen {
		return "", fmt.Errorf("%w: %d bytes, the keyring limit is %d", ErrInvalid, len(b), MaxValueLen)
	}
	return string(b), nil
}

// keyringError wraps a keyring failure with what was being done, and says
// ErrUnavailable unless the keyring reported something more specific. The
// wrapped error comes from the keyring library and holds no secret.
func keyringError(op, account string, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%s for %s: %w", op, account, ErrNotFound)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%s for %s: %w: too large for the keyring", op, account, ErrInvalid)
	}
	return fmt.Errorf("%s for %s: %w: %w", op, account, ErrUnavailable, err)
}

// Load returns the saved secrets for the site and user, with Username set.
// Nothing saved → an error matching ErrNotFound.
func (s Store) Load(siteURL, username string) (wsclient.Credentials, error) {
	acct := Account(siteURL, username)
	v, err := keyring.Get(s.Service, acct)
	if err != nil {
		return wsclient.Credentials{}, keyringError("loading credentials", acct, err)
	}
	var sec secret
	if err := json.Unmarshal([]byte(v), &sec); err != nil {
		// Not the value's text: it is a secret.
		return wsclient.Credentials{}, fmt.Errorf("loading credentials for %s: the keyring entry is damaged; save them again", acct)
	}
	return wsclient.Credentials{Username: strings.TrimSpace(username), Password: sec.Password, SessionID: sec.SessionID, CSRFToken: sec.CSRFToken}, nil
}

// Save stores c's secrets for the site and c.Username, replacing what was
// there.
func (s Store) Save(siteURL string, c wsclient.Credentials) error {
	acct := Account(siteURL, c.Username)
	if len(acct) > maxAccountBytes {
		return fmt.Errorf("saving credentials: %w: site URL and username too long", ErrInvalid)
	}
	v, err := encode(c)
	if err != nil {
		return fmt.Errorf("saving credentials for %s: %w", acct, err)
	}
	if err := keyring.Set(s.Service, acct, v); err != nil {
		return keyringError("saving credentials", acct, err)
	}
	return nil
}

// Delete removes the secrets for the site and user ("Forget credentials").
// Nothing stored is not an error.
func (s Store) Delete(siteURL, username string) error {
	acct := Account(siteURL, username)
	if err := keyring.Delete(s.Service, acct); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return keyringError("deleting credentials", acct, err)
	}
	return nil
}

// SettingsSaver is where SaveAll writes settings: settings.Store, or a fake
// in tests.
type SettingsSaver interface {
	Save(settings.Settings) error
}

// SaveAll saves settings and credentials so that nothing is half-saved:
// the keyring is written first, and if that fails the settings file is not
// touched; if the settings write then fails, the previous keyring entry is
// put back. The entry is the one for s.SiteURL and s.Username; c replaces
// it, and empty c (no secret at all) deletes it, as when the user unticks
// "remember password".
func (s Store) SaveAll(st SettingsSaver, set settings.Settings, c wsclient.Credentials) error {
	set = set.Normalized()
	c.Username = set.Username
	if set.SiteURL == "" && !Empty(c) {
		return fmt.Errorf("saving credentials: %w: the site URL is needed to file them", ErrInvalid)
	}
	if !Empty(c) {
		if err := Check(c); err != nil {
			return fmt.Errorf("saving credentials: %w", err)
		}
	}
	prev, err := s.Load(set.SiteURL, set.Username)
	hadPrev := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		if errors.Is(err, ErrUnavailable) {
			return err // cannot write either; settings untouched
		}
		// A damaged entry: overwrite it; there is nothing to restore.
	}
	if Empty(c) {
		err = s.Delete(set.SiteURL, set.Username)
	} else {
		err = s.Save(set.SiteURL, c)
	}
	if err != nil {
		return err
	}
	if err := st.Save(set); err != nil {
		var rerr error
		if hadPrev {
			rerr = s.Save(set.SiteURL, prev)
		} else {
			rerr = s.Delete(set.SiteURL, set.Username)
		}
		if rerr != nil {
			return fmt.Errorf("%w (and restoring the previous credentials failed: %w)", err, rerr)
		}
		return err
	}
	return nil
}
