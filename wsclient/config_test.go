package wsclient

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func fields(err error) []string {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	sort.Strings(out)
	return out
}

func TestValidate(t *testing.T) {
	good := Config{SiteURL: "https://www.example.com", WSURL: "wss://ws.example.com/prod"}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a cert"), 0o600)
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"good", func(*Config) {}, nil},
		{"loopback http", func(c *Config) { c.SiteURL, c.WSURL = "http://127.0.0.1:8000", "ws://localhost:8001/prod" }, nil},
		{"plain remote", func(c *Config) { c.SiteURL, c.WSURL = "http://www.example.com", "ws://ws.example.com" }, []string{"site_url", "ws_url"}},
		{"missing", func(c *Config) { c.SiteURL, c.WSURL = "", "" }, []string{"site_url", "ws_url"}},
		{"swapped schemes", func(c *Config) { c.SiteURL, c.WSURL = "wss://a", "https://b" }, []string{"site_url", "ws_url"}},
		{"site query", func(c *Config) { c.SiteURL = "https://a/?x=1" }, []string{"site_url"}},
		{"paths", func(c *Config) { c.TokenPath, c.LoginPath = "api/ws-token/", "//evil/" }, []string{"login_path", "token_path"}},
		{"channel chars", func(c *Config) { c.Channel = "a b" }, []string{"channel"}},
		{"channel long", func(c *Config) { c.Channel = strings.Repeat("a", 129) }, []string{"channel"}},
		{"channel max", func(c *Config) { c.Channel = strings.Repeat("a", 128) }, nil},
		{"route", func(c *Config) { c.RouteKey = "has space" }, []string{"route_key"}},
		{"keepalive", func(c *Config) { c.KeepaliveHandler = "keep-alive" }, []string{"keepalive_handler"}},
		{"keepalive ok", func(c *Config) { c.KeepaliveHandler = "keepalive" }, nil},
		{"ca missing", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, []string{"ca_file"}},
		{"ca not pem", func(c *Config) { c.CAFile = bad }, []string{"ca_file"}},
		{"negative", func(c *Config) { c.PongWait = -time.Second }, []string{"timing"}},
		{"userinfo", func(c *Config) { c.SiteURL = "https://u:p@www.example.com" }, []string{"site_url"}},
	}
	for _, tt := range tests {
		c := good
		tt.mod(&c)
		if got := fields(c.Validate()); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: fields %v, want %v (%v)", tt.name, got, tt.want, c.Validate())
		}
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{KeepaliveInterval: time.Hour, BackoffCap: time.Millisecond}.WithDefaults()
	if c.TokenPath != DefaultTokenPath || c.LoginPath != DefaultLoginPath || c.RouteKey != "$default" ||
		c.SessionCookieName != "sessionid" || c.KeepaliveInterval != MaxKeepaliveInterval ||
		c.BackoffCap != c.BackoffBase || c.RotateAfter != 115*time.Minute || c.StableAfter != 10*time.Second {
		t.Fatalf("%+v", c)
	}
}

func TestUserAgent(t *testing.T) {
	for version, want := range map[string]string{"": "ToastTray", "1.2.0": "ToastTray/1.2.0"} {
		if got := UserAgent(version); got != want {
			t.Errorf("UserAgent(%q) = %q, want %q", version, got, want)
		}
	}
}
