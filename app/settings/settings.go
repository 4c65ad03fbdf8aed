// Package settings holds ToastTray's non-secret settings: what the settings
// window edits, what the tray process reads at start and after the window
// closes. Secrets never live here; they go to the OS keyring (app/creds).
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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

// Field keys used by Validate. The URL, path, channel, route, keepalive,
// catch-up and CA keys are wsclient's FieldError names, so its reasons map straight onto
// the window's fields.
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
		&s.Channel, &s.RouteKey, &s.Username, &s.KeepaliveHandler, &s.CatchupHandler, &s.CAFile} {
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
	ua := "ToastTray"
	if version != "" {
		ua += "/" + version
	}
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
		UserAgent:        ua,
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

// Store reads and writes the settings file at Path.
type Store struct {
	Path string
}

// DefaultPath is ConfigDir()/settings.json.
func DefaultPath() (string, error) {
	d, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, FileName), nil
}

// DefaultStore is a Store at DefaultPath.
func DefaultStore() (Store, error) {
	p, err := DefaultPath()
	return Store{Path: p}, err
}

// Load reads the settings. A missing file is a first run: it returns
// Default(), exists=false and no error. Fields absent from the file keep
// their defaults, so older files gain new fields' defaults. A damaged file
// returns Default() and an error, so the caller can say so and carry on.
func (st Store) Load() (s Settings, exists bool, err error) {
	data, err := os.ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), false, nil
	}
	if err != nil {
		return Default(), false, fmt.Errorf("reading settings: %w", err)
	}
	s = Default()
	if err := json.Unmarshal(data, &s); err != nil {
		return Default(), true, fmt.Errorf("reading settings %s: %w", st.Path, err)
	}
	return s, true, nil
}

// Save writes s atomically (temp file, fsync, rename; mode 0600), so a
// crash leaves the previous file whole.
func (st Store) Save(s Settings) error {
	data, err := json.MarshalIndent(s.Normalized(), "", "  ")
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	if err := atomicfile.Write(st.Path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	return nil
}
