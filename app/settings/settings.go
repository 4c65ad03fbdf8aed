// Package settings holds ToastTray's non-secret settings: what the settings
// window edits, what the tray process reads at start and after the window
// closes. Secrets never live here; they go to the OS keyring (app/creds).
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/toasttray/toasttray/app/settings/atomicfile"
	"github.com/toasttray/toasttray/wsclient"
)

// AuthMethod is how the app signs in to the Django site.
type AuthMethod string

const (
	// AuthPassword signs in with username and password through the
	// site's login form.
	AuthPassword AuthMethod = "password"
	// AuthSession uses sessionid/csrftoken cookies pasted from a signed-in
	// browser, for sites with single sign-on or two-factor login.
	AuthSession AuthMethod = "session"
)

// Defaults for the fields a site rarely changes: the client's, so the
// window shows what the client would use anyway.
const (
	DefaultTokenPath = wsclient.DefaultTokenPath // "/api/ws-token/"
	DefaultLoginPath = wsclient.DefaultLoginPath // "/accounts/login/"
	DefaultRouteKey  = wsclient.DefaultRouteKey  // "$default"
)

// Field keys: settings.json's keys, also Validate's. The URL, path,
// channel, route, keepalive, catch-up, CA and proxy keys are wsclient's
// FieldError names, so its reasons map straight onto the window's fields.
const (
	FieldSiteURL          = "site_url"
	FieldWSURL            = "ws_url"
	FieldTokenPath        = "token_path"
	FieldLoginPath        = "login_path"
	FieldChannel          = "channel"
	FieldRouteKey         = "route_key"
	FieldAuth             = "auth"
	FieldUsername         = "username"
	FieldKeepaliveHandler = "keepalive_handler"
	FieldCatchupHandler   = "catchup_handler"
	FieldMinLevel         = "min_level"
	FieldCAFile           = "ca_file"
	FieldProxy            = "proxy"
	FieldRememberPassword = "remember_password"
	FieldSoundOnError     = "sound_on_error"
	FieldStartAtLogin     = "start_at_login"
)

// Settings is everything the user configures except secrets. The JSON tags
// are the file format; add fields, never rename them.
type Settings struct {
	SiteURL          string         `json:"site_url"`
	WSURL            string         `json:"ws_url"`
	TokenPath        string         `json:"token_path"`
	LoginPath        string         `json:"login_path"`
	Channel          string         `json:"channel"`
	RouteKey         string         `json:"route_key"`
	Auth             AuthMethod     `json:"auth"`
	Username         string         `json:"username"`
	RememberPassword bool           `json:"remember_password"`
	KeepaliveHandler string         `json:"keepalive_handler"`
	CatchupHandler   string         `json:"catchup_handler"` // "" = no catch-up
	MinLevel         wsclient.Level `json:"min_level"`
	SoundOnError     bool           `json:"sound_on_error"`
	StartAtLogin     bool           `json:"start_at_login"`
	CAFile           string         `json:"ca_file"`
	Proxy            string         `json:"proxy"` // "" = automatic (environment, then system), "direct", or a proxy URL
}

// Default returns the settings of a fresh install: the documented Django
// paths, the default route, password sign-in, info and above shown, sound
// on errors.
func Default() Settings {
	return Settings{
		TokenPath:        DefaultTokenPath,
		LoginPath:        DefaultLoginPath,
		RouteKey:         DefaultRouteKey,
		Auth:             AuthPassword,
		RememberPassword: true,
		MinLevel:         wsclient.LevelInfo,
		SoundOnError:     true,
	}
}

// Normalized trims the surrounding spaces a paste brings along, so Validate,
// Config and the saved file all see the same values.
func (s Settings) Normalized() Settings {
	for _, p := range []*string{&s.SiteURL, &s.WSURL, &s.TokenPath, &s.LoginPath,
		&s.Channel, &s.RouteKey, &s.Username, &s.KeepaliveHandler, &s.CatchupHandler, &s.CAFile, &s.Proxy} {
		*p = strings.TrimSpace(*p)
	}
	return s
}

// Validate returns a reason per invalid field, keyed by the Field*
// constants; empty means valid. Connection fields are checked by
// wsclient.Config.Validate, the same rules the client enforces, so the
// window never accepts what the client would refuse.
func (s Settings) Validate() map[string]string {
	s = s.Normalized()
	out := map[string]string{}
	var ve *wsclient.ValidationError
	if err := s.Config("").Validate(); errors.As(err, &ve) {
		for _, f := range ve.Fields {
			if _, dup := out[f.Field]; !dup {
				out[f.Field] = f.Reason
			}
		}
	} else if err != nil {
		out[FieldSiteURL] = err.Error()
	}
	switch s.Auth {
	case AuthPassword:
		if s.Username == "" {
			out[FieldUsername] = "required for username and password sign-in"
		}
	case AuthSession:
	default:
		out[FieldAuth] = fmt.Sprintf("unknown sign-in method %q", s.Auth)
	}
	if s.MinLevel != "" && wsclient.ParseLevel(string(s.MinLevel)) != s.MinLevel {
		out[FieldMinLevel] = "must be success, info, warning or error"
	}
	return out
}

// Configured reports whether the settings are complete enough to connect;
// the tray opens the settings window at start when they are not.
func (s Settings) Configured() bool {
	return s.SiteURL != "" && s.WSURL != "" && len(s.Validate()) == 0
}

// Config returns the client configuration for these settings. version goes
// into the User-Agent ("ToastTray/<version>").
func (s Settings) Config(version string) wsclient.Config {
	s = s.Normalized()
	return wsclient.Config{
		SiteURL:          s.SiteURL,
		WSURL:            s.WSURL,
		TokenPath:        s.TokenPath,
		LoginPath:        s.LoginPath,
		Channel:          s.Channel,
		RouteKey:         s.RouteKey,
		KeepaliveHandler: s.KeepaliveHandler,
		CatchupHandler:   s.CatchupHandler,
		CAFile:           s.CAFile,
		Proxy:            s.Proxy,
		UserAgent:        wsclient.UserAgent(version),
	}
}

// ConfigDir is ToastTray's folder for settings and history:
// $TOASTTRAY_CONFIG_DIR if set (tests, scripts, portable installs), else
// os.UserConfigDir()/toasttray.
func ConfigDir() (string, error) {
	if d := os.Getenv("TOASTTRAY_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config folder: %w", err)
	}
	return filepath.Join(d, "toasttray"), nil
}

// FileName is the settings file's name inside ConfigDir.
const FileName = "settings.json"

// Store reads and writes the settings file at Path, the user's layer
// between the organisation's defaults and its enforced settings.
type Store struct {
	Path string
	// Policy is the organisation's; the zero Policy is none (demo mode,
	// tests).
	Policy Policy
}

// DefaultPath is ConfigDir()/settings.json.
func DefaultPath() (string, error) {
	d, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, FileName), nil
}

// DefaultStore is a Store at DefaultPath under the platform's policy
// (LoadPolicy).
func DefaultStore() (Store, error) {
	p, err := DefaultPath()
	return Store{Path: p, Policy: LoadPolicy()}, err
}

// Load returns the merged settings (see LoadEffective).
func (st Store) Load() (Settings, bool, error) {
	e, exists, err := st.LoadEffective()
	return e.Settings, exists, err
}

// LoadEffective reads the user's settings file and lays it between the
// organisation's defaults and enforced settings: built-in < organisation
// default < user < enforced, per key. A missing file is a first run:
// exists=false and no error. Keys absent from the file keep the baseline,
// so older files gain new fields' defaults. A UTF-8 BOM (a Windows
// editor's) is skipped. A field of the wrong type or with an unknown value
// keeps the baseline alone, logged by name, while the others load. A file
// that is not settings at all gives the baseline and an error for the
// caller to show. Either way the file is first copied aside (see
// keepCopy), so the next Save cannot lose what the user wrote.
func (st Store) LoadEffective() (e Effective, exists bool, err error) {
	e = st.baseline()
	defer st.enforce(&e)
	data, err := os.ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("reading settings: %w", err)
	}
	text := bytes.TrimPrefix(data, utf8BOM)
	var values map[string]json.RawMessage
	if err := json.Unmarshal(text, &values); err != nil {
		err = fmt.Errorf("reading settings %s: %w", st.Path, err)
		if len(bytes.TrimSpace(text)) == 0 {
			return e, true, err // nothing to keep
		}
		if backup, kerr := st.keepCopy(data); kerr != nil {
			err = fmt.Errorf("%w; could not keep a copy: %v", err, kerr)
		} else {
			err = fmt.Errorf("%w; the file was kept as %s", err, backup)
		}
		return e, true, err
	}
	dropped := decodeFields(&e, values, st.Path)
	if len(dropped) > 0 {
		if backup, kerr := st.keepCopy(data); kerr != nil {
			slog.Warn("settings: could not keep a copy of the file", "path", st.Path, "err", kerr)
		} else {
			slog.Warn("settings: some fields were reset to their defaults; the file as it was is kept",
				"fields", strings.Join(dropped, ","), "backup", backup)
		}
	}
	return e, true, nil
}

var utf8BOM = []byte("\xef\xbb\xbf")

// decodeFields lays the file's fields over the baseline in e one at a
// time, so one bad field costs only itself, marks them as the user's
// (from origin), and returns the keys it dropped. Keys match as
// encoding/json always matched them (case-insensitively); unknown keys
// and nulls are ignored. The log names fields and reasons, never values.
func decodeFields(e *Effective, values map[string]json.RawMessage, origin string) []string {
	log := slog.Default()
	s := e.Settings
	var user, dropped []string
	for _, key := range slices.Sorted(maps.Keys(values)) {
		f, ok := fieldFold(key)
		if !ok || isNull(values[key]) {
			continue
		}
		if err := f.set(&s, values[key]); err != nil {
			log.Warn("settings: ignoring a field of the wrong type", "field", key, "err", err)
			dropped = append(dropped, key)
			continue
		}
		user = append(user, f.key)
	}
	// Values the window cannot show or fix: back to the baseline.
	reset := func(key, want string) {
		log.Warn("settings: ignoring an unknown value", "field", key, "want", want)
		dropped = append(dropped, key)
		user = slices.DeleteFunc(user, func(k string) bool { return k == key })
	}
	if s.Auth != AuthPassword && s.Auth != AuthSession {
		s.Auth = e.Settings.Auth
		reset(FieldAuth, "password or session")
	}
	if s.MinLevel != "" && wsclient.ParseLevel(string(s.MinLevel)) != s.MinLevel {
		s.MinLevel = e.Settings.MinLevel
		reset(FieldMinLevel, "success, info, warning or error")
	}
	e.Settings = s
	for _, k := range user {
		e.Sources[k], e.Origins[k] = SourceUser, origin
	}
	return dropped
}

// backupInfix names copies of files that did not load whole:
// settings.json.bad-20260102-150405.
const backupInfix = ".bad-"

// keepCopy copies data (the file as read) next to the file, unless an
// identical copy is already there (Load runs at every start and reload),
// and returns the copy's path.
func (st Store) keepCopy(data []byte) (string, error) {
	dir, prefix := filepath.Dir(st.Path), filepath.Base(st.Path)+backupInfix
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
			return p, nil
		}
	}
	// O_EXCL: two processes (tray and window) never write the same name.
	// No fsync: the file itself stays in place until a Save, so a copy
	// torn by a crash is only made again.
	stamp := st.Path + backupInfix + time.Now().UTC().Format("20060102-150405")
	for i := 1; i <= 100; i++ {
		name := stamp
		if i > 1 {
			name = fmt.Sprintf("%s-%d", stamp, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("keeping a copy of %s: %w", st.Path, err)
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", fmt.Errorf("keeping a copy of %s: %w", st.Path, err)
		}
		return name, nil
	}
	return "", fmt.Errorf("keeping a copy of %s: too many copies named %s*", st.Path, stamp)
}

// Save writes the user's layer atomically (temp file, fsync, rename; mode
// 0600), so a crash leaves the previous file whole. It never writes an
// enforced key: the file keeps the user's own value of it (see
// storedEnforced) for when the organisation stops enforcing it. It leaves
// out values equal to the baseline (built-in and organisation default),
// so that a later change of an organisation default reaches the users who
// never changed it.
func (st Store) Save(s Settings) error {
	s = s.Normalized()
	base := st.baseline().Settings
	user, err := st.storedEnforced()
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	for _, f := range fields() {
		if _, locked := st.Policy.Enforced[f.key]; locked {
			continue
		}
		if v := f.value(s); !bytes.Equal(v, f.value(base)) {
			user[f.key] = v
		}
	}
	data, err := json.MarshalIndent(user, "", "  ")
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	if err := atomicfile.Write(st.Path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	return nil
}

// storedEnforced returns the file's values of the enforced keys (keys
// matched as Load matches them), for Save to write back unchanged. What
// it cannot carry over, a file that is not a JSON object or a value of the
// wrong type, Load would not read either: it is copied aside first as Load
// does (keepCopy, at no cost when Load already did). When the file cannot
// be read or the copy cannot be made, Save fails rather than lose it.
func (st Store) storedEnforced() (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(st.Policy.Enforced) == 0 {
		return out, nil
	}
	data, err := os.ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the values to keep: %w", err)
	}
	text := bytes.TrimPrefix(data, utf8BOM)
	var values map[string]json.RawMessage
	whole := len(bytes.TrimSpace(text)) == 0 || json.Unmarshal(text, &values) == nil
	probe := Default()
	for _, key := range slices.Sorted(maps.Keys(values)) {
		f, ok := fieldFold(key)
		if _, locked := st.Policy.Enforced[f.key]; !ok || !locked || isNull(values[key]) {
			continue
		}
		if f.set(&probe, values[key]) != nil {
			whole = false
			continue
		}
		out[f.key] = values[key]
	}
	if !whole {
		if _, err := st.keepCopy(data); err != nil {
			return nil, err
		}
	}
	return out, nil
}
