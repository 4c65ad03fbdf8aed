package settings

import (
	"bytes"
	"log/slog"
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
	s.Proxy = " http://proxy.example:3128 "
	c := s.Config("1.2.3")
	want := wsclient.Config{
		SiteURL: "https://www.example.com", WSURL: "wss://ws.example.com/prod",
		TokenPath: "/api/ws-token/", LoginPath: "/accounts/login/", Channel: "ops",
		RouteKey: "$default", KeepaliveHandler: "ping", CatchupHandler: "catchup", CAFile: "/etc/ca.pem",
		Proxy: "http://proxy.example:3128", UserAgent: "ToastTray/1.2.3",
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

// backups lists the copies Load kept of settings file p.
func backups(t *testing.T, p string) []string {
	t.Helper()
	m, err := filepath.Glob(p + ".bad-*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// captureLog sends the default logger to a buffer for one test.
func captureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// A file that is not settings at all: defaults and an error that says
// where the file was kept, before a Save replaces it; once per content.
func TestLoadDamagedKeepsCopy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.json")
	damaged := []byte(`{"site_url":"https://www.example.com","username":"alice"`) // torn
	os.WriteFile(p, damaged, 0o600)
	st := Store{Path: p}
	s, exists, err := st.Load()
	if err == nil || !exists || !reflect.DeepEqual(s, Default()) {
		t.Fatalf("damaged: %+v %v %v", s, exists, err)
	}
	kept := backups(t, p)
	if len(kept) != 1 || !strings.Contains(err.Error(), kept[0]) {
		t.Fatalf("backups %v, error %v", kept, err)
	}
	if _, _, err := st.Load(); err == nil || len(backups(t, p)) != 1 {
		t.Fatalf("second load: %v, backups %v", err, backups(t, p))
	}
	if err := st.Save(valid()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(kept[0]); !bytes.Equal(got, damaged) {
		t.Fatalf("backup holds %q", got)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(kept[0]); fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup mode %v", fi.Mode().Perm())
		}
	}
	// An empty file holds nothing to keep.
	os.WriteFile(p, []byte(" \n"), 0o600)
	if _, _, err := st.Load(); err == nil || len(backups(t, p)) != 1 {
		t.Fatalf("empty file: %v, backups %v", err, backups(t, p))
	}
}

// A BOM (Notepad's) is not damage.
func TestLoadSkipsBOM(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(p, []byte("\xef\xbb\xbf{\"site_url\":\"https://a.example\",\"username\":\"alice\"}\r\n"), 0o600)
	s, _, err := Store{Path: p}.Load()
	if err != nil || s.SiteURL != "https://a.example" || s.Username != "alice" || len(backups(t, p)) != 0 {
		t.Fatalf("%+v %v %v", s, err, backups(t, p))
	}
}

// One wrongly typed or unknown value costs only its own field: logged by
// name (never by value), the rest loads, and the file is kept as it was.
func TestLoadDropsOnlyBadFields(t *testing.T) {
	logged := captureLog(t)
	p := filepath.Join(t.TempDir(), "settings.json")
	file := []byte(`{"site_url":"https://a.example","username":"alice","remember_password":"hunter2",` +
		`"channel":7,"auth":"kerb-hunter3","min_level":"hunter4","sound_on_error":false,"Route_Key":"r"}`)
	os.WriteFile(p, file, 0o600)
	st := Store{Path: p}
	s, exists, err := st.Load()
	if err != nil || !exists {
		t.Fatalf("%v %v", exists, err)
	}
	want := Default()
	want.SiteURL, want.Username, want.SoundOnError, want.RouteKey = "https://a.example", "alice", false, "r"
	if s != want {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
	for _, f := range []string{"remember_password", "channel", FieldAuth, FieldMinLevel} {
		if !strings.Contains(logged.String(), f) {
			t.Errorf("%s not logged:\n%s", f, logged)
		}
	}
	if strings.Contains(logged.String(), "hunter") || !strings.Contains(logged.String(), "level=WARN") {
		t.Errorf("log:\n%s", logged)
	}
	kept := backups(t, p)
	if len(kept) != 1 {
		t.Fatalf("backups %v", kept)
	}
	if got, _ := os.ReadFile(kept[0]); !bytes.Equal(got, file) {
		t.Fatalf("backup holds %q", got)
	}
	if _, _, err := st.Load(); err != nil || len(backups(t, p)) != 1 {
		t.Fatalf("second load: %v, backups %v", err, backups(t, p))
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

// The proxy field is checked by the client's rules, with a reason that
// never quotes the value (it may hold a password).
func TestValidateProxy(t *testing.T) {
	for _, p := range []string{"", "direct", "http://proxy.example:3128", "socks5://u:p@proxy.example:1080"} {
		s := valid()
		s.Proxy = p
		if errs := s.Validate(); len(errs) != 0 {
			t.Errorf("proxy %q rejected: %v", p, errs)
		}
	}
	s := valid()
	s.Proxy = "ftp://user:S3cret@proxy.example:21"
	errs := s.Validate()
	if r := errs[FieldProxy]; r == "" || strings.Contains(r, "S3cret") || len(errs) != 1 {
		t.Errorf("Validate = %v, want one reason for %s without the password", errs, FieldProxy)
	}
}
