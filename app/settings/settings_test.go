package settings

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/toasttray/toasttray/wsclient"
)

func valid() Settings {
	s := Default()
	s.SiteURL = "https://www.example.com"
	s.WSURL = "wss://ws.example.com/prod"
	s.Username = "alice"
	s.Channel = "ops"
	return s
}

func TestDefault(t *testing.T) {
	d := Default()
	if d.TokenPath != "/api/ws-token/" || d.LoginPath != "/accounts/login/" || d.RouteKey != "$default" {
		t.Fatalf("defaults: %+v", d)
	}
	if d.MinLevel != wsclient.ParseLevel("info") || d.Auth != AuthPassword {
		t.Fatalf("defaults: %+v", d)
	}
	if d.Configured() {
		t.Fatal("fresh defaults must not count as configured")
	}
}

func TestValidate(t *testing.T) {
	if errs := valid().Validate(); len(errs) != 0 {
		t.Fatalf("valid settings rejected: %v", errs)
	}
	if !valid().Configured() {
		t.Fatal("valid settings not configured")
	}
	tests := []struct {
		name  string
		edit  func(*Settings)
		field string
	}{
		{"http site", func(s *Settings) { s.SiteURL = "http://www.example.com" }, FieldSiteURL},
		{"ws gateway", func(s *Settings) { s.WSURL = "ws://ws.example.com/prod" }, FieldWSURL},
		{"empty site", func(s *Settings) { s.SiteURL = "" }, FieldSiteURL},
		{"token path", func(s *Settings) { s.TokenPath = "api/ws-token/" }, FieldTokenPath},
		{"login path", func(s *Settings) { s.LoginPath = "accounts/login/" }, FieldLoginPath},
		{"channel chars", func(s *Settings) { s.Channel = "ops room" }, FieldChannel},
		{"channel length", func(s *Settings) { s.Channel = strings.Repeat("a", 129) }, FieldChannel},
		{"no username", func(s *Settings) { s.Username = "" }, FieldUsername},
		{"auth", func(s *Settings) { s.Auth = "kerberos" }, FieldAuth},
		{"level", func(s *Settings) { s.MinLevel = "critical" }, FieldMinLevel},
		{"catch-up handler", func(s *Settings) { s.CatchupHandler = "catch up" }, FieldCatchupHandler},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.edit(&s)
			errs := s.Validate()
			if errs[tt.field] == "" {
				t.Fatalf("no reason for %s; got %v", tt.field, errs)
			}
			if s.Configured() {
				t.Fatal("invalid settings count as configured")
			}
		})
	}
	ok := []func(*Settings){
		func(s *Settings) { s.SiteURL = "http://127.0.0.1:8000"; s.WSURL = "ws://127.0.0.1:8000/prod" },
		func(s *Settings) { s.Channel = "" },
		func(s *Settings) { s.Channel = strings.Repeat("a", 128) },
		func(s *Settings) { s.Auth = AuthSession; s.Username = "" },
		func(s *Settings) { s.SiteURL = "  https://www.example.com  " },
	}
	for i, edit := range ok {
		s := valid()
		edit(&s)
		if errs := s.Validate(); len(errs) != 0 {
			t.Errorf("case %d rejected: %v", i, errs)
		}
	}
}

func TestConfig(t *testing.T) {
	s := valid()
	s.SiteURL = " https://www.example.com "
	s.KeepaliveHandler = "ping"
	s.CatchupHandler = " catchup "
	s.CAFile = "/etc/ca.pem"
	c := s.Config("1.2.3")
	want := wsclient.Config{
		SiteURL: "https://www.example.com", WSURL: "wss://ws.example.com/prod",
		TokenPath: "/api/ws-token/", LoginPath: "/accounts/login/", Channel: "ops",
		RouteKey: "$default", KeepaliveHandler: "ping", CatchupHandler: "catchup", CAFile: "/etc/ca.pem",
		UserAgent: "ToastTray/1.2.3",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Config =\n%+v\nwant\n%+v", c, want)
	}
}

func TestConfigDirOverride(t *testing.T) {
	t.Setenv("TOASTTRAY_CONFIG_DIR", "/tmp/tt-x")
	p, err := DefaultPath()
	if err != nil || p != filepath.Join("/tmp/tt-x", "settings.json") {
		t.Fatalf("DefaultPath = %q, %v", p, err)
	}
}

func TestLoadSave(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "cfg", "settings.json")}
	s, exists, err := st.Load()
	if err != nil || exists || !reflect.DeepEqual(s, Default()) {
		t.Fatalf("first run: %+v %v %v", s, exists, err)
	}
	want := valid()
	want.StartAtLogin = true
	want.MinLevel = "warning"
	if err := st.Save(want); err != nil {
		t.Fatal(err)
	}
	got, exists, err := st.Load()
	if err != nil || !exists || !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip: %+v %v %v", got, exists, err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(st.Path)
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", fi.Mode().Perm())
		}
	}
}

// An older file without some fields keeps their defaults.
func TestLoadMissingFieldsGetDefaults(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(p, []byte(`{"site_url":"https://a.example","future_field":1}`), 0o600)
	s, exists, err := Store{Path: p}.Load()
	if err != nil || !exists {
		t.Fatal(err)
	}
	if s.SiteURL != "https://a.example" || s.TokenPath != DefaultTokenPath || !s.SoundOnError {
		t.Fatalf("%+v", s)
	}
}

func TestLoadDamaged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(p, []byte(`{"site_url":`), 0o600)
	s, exists, err := Store{Path: p}.Load()
	if err == nil || !exists || !reflect.DeepEqual(s, Default()) {
		t.Fatalf("damaged: %+v %v %v", s, exists, err)
	}
}

// The Settings type has no field that could hold a secret: a guard against
// someone adding one later.
func TestNoSecretFields(t *testing.T) {
	typ := reflect.TypeOf(Settings{})
	forbidden := map[string]bool{"password": true, "sessionid": true, "session_id": true,
		"csrftoken": true, "csrf_token": true, "token": true, "secret": true}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if forbidden[strings.ToLower(f.Name)] || forbidden[f.Tag.Get("json")] {
			t.Errorf("field %s looks like a secret", f.Name)
		}
	}
}
