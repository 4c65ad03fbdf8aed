package settings

// Fuzz targets for the settings the user types and the file they live in:
//
//	go test -run '^$' -fuzz '^FuzzValidate$' -fuzztime 60s ./app/settings
//	go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime 60s ./app/settings

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/toasttray/toasttray/wsclient"
)

var knownFields = map[string]bool{
	FieldSiteURL: true, FieldWSURL: true, FieldTokenPath: true, FieldLoginPath: true, FieldChannel: true,
	FieldRouteKey: true, FieldAuth: true, FieldUsername: true, FieldKeepaliveHandler: true,
	FieldCatchupHandler: true, FieldMinLevel: true, FieldCAFile: true, FieldProxy: true, "timing": true,
}

// FuzzValidate: the window's validation never panics, names only known
// fields with a reason, and never accepts what the client would refuse
// (the window must not save settings the client cannot run).
func FuzzValidate(f *testing.F) {
	f.Add("https://www.example.com", "wss://ws.example.com/prod", "/api/ws-token/", "/accounts/login/", "ops", "$default", "password", "alice", "", "info")
	f.Add(" http://127.0.0.1:8000 ", "ws://localhost:8000/prod", "", "", "", "", "session", "", "keepalive", "")
	f.Add("http://www.example.com", "ws://ws.example.com", "api", "//x", "ops room", "a b", "kerberos", "", "1x", "critical")
	f.Add("https://u:p@h?q", "wss://", "/a?b", "/c#d", strings.Repeat("a", 129), strings.Repeat("r", 200), "", "\x00", "k\n", "ERROR")
	f.Fuzz(func(t *testing.T, site, ws, tokenPath, loginPath, channel, route, auth, user, keep, level string) {
		s := Settings{SiteURL: site, WSURL: ws, TokenPath: tokenPath, LoginPath: loginPath, Channel: channel,
			RouteKey: route, Auth: AuthMethod(auth), Username: user, KeepaliveHandler: keep, MinLevel: wsclient.Level(level)}
		errs := s.Validate()
		for k, v := range errs {
			if !knownFields[k] || v == "" {
				t.Fatalf("unknown field %q or empty reason %q", k, v)
			}
		}
		if len(errs) > 0 {
			if s.Configured() {
				t.Fatal("Configured with validation errors")
			}
			return
		}
		cfg := s.Config("1.0")
		if err := cfg.Validate(); err != nil {
			t.Fatalf("window accepted, client refuses: %v", err)
		}
		if _, err := wsclient.New(cfg, wsclient.Credentials{}, wsclient.Options{}); err != nil {
			t.Fatalf("window accepted, wsclient.New refuses: %v", err)
		}
		if n := s.Normalized(); n.Normalized() != n {
			t.Fatal("Normalized is not idempotent")
		}
		// What is saved loads back as the same settings. (JSON replaces
		// invalid UTF-8 with U+FFFD, so only valid text round-trips; the
		// window's entries only produce valid text.)
		if !validUTF8(site, ws, tokenPath, loginPath, channel, route, auth, user, keep, level) {
			return
		}
		st := Store{Path: filepath.Join(t.TempDir(), FileName)}
		if err := st.Save(s); err != nil {
			t.Fatalf("save: %v", err)
		}
		got, exists, err := st.Load()
		if err != nil || !exists {
			t.Fatalf("load after save: %v %v", exists, err)
		}
		if got != s.Normalized() {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, s.Normalized())
		}
		if len(got.Validate()) != 0 {
			t.Fatalf("saved valid settings load as invalid: %v", got.Validate())
		}
	})
}

func validUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// FuzzLoad: whatever is in the file (a torn write, a hand edit, another
// program's JSON), Load returns usable settings: either what the file
// says, field by field, or Default() with an error, never a panic. A file
// that did not load whole is copied aside once, byte for byte.
func FuzzLoad(f *testing.F) {
	good, _ := json.Marshal(Default())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"site_url": 12, "auth": null}`))
	f.Add([]byte(`{"min_level":"critical","unknown_field":[1,2,3]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(""))
	f.Add([]byte("\xff\xfe{}"))
	f.Add(append([]byte("\xef\xbb\xbf"), good...))
	f.Add([]byte("\xef\xbb\xbf"))
	f.Add([]byte(`{"site_url":"https://a.example","remember_password":"yes","auth":"kerberos"}`))
	f.Add([]byte(`{"SITE_URL":"https://a.example","site_url":1,"Channel":{"a":1}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"username":"a\u0000b","ca_file":"\ud800"} trailing`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, exists, err := Store{Path: p}.Load()
		if !exists {
			t.Fatal("existing file reported missing")
		}
		kept, _ := filepath.Glob(p + ".bad-*")
		if len(kept) > 1 {
			t.Fatalf("%d copies kept", len(kept))
		}
		if len(kept) == 1 {
			if b, _ := os.ReadFile(kept[0]); !bytes.Equal(b, data) {
				t.Fatalf("copy holds %q, file held %q", b, data)
			}
		}
		if err != nil {
			if s != Default() {
				t.Fatalf("damaged file: got %+v, want Default()", s)
			}
			return
		}
		if s.Auth != AuthPassword && s.Auth != AuthSession {
			t.Fatalf("unknown auth %q loaded", s.Auth)
		}
		_ = s.Validate() // must not panic on anything a file can hold
		_ = s.Config("")
		if len(kept) == 0 {
			return
		}
		if again, _, err := (Store{Path: p}).Load(); err != nil || again != s {
			t.Fatalf("second load differs: %+v %v", again, err)
		}
		if more, _ := filepath.Glob(p + ".bad-*"); len(more) != 1 {
			t.Fatalf("second load kept another copy: %v", more)
		}
	})
}
