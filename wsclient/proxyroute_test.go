package wsclient

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient/wstest"
	"golang.org/x/net/http/httpproxy"
)

// fakeSystem stands in for the Windows settings: it answers proxy, with
// source, and counts its calls.
type fakeSystem struct {
	proxy, source string
	calls         int
}

func (f *fakeSystem) get(u *url.URL) (proxyRoute, error) {
	f.calls++
	if f.proxy == "" {
		return proxyRoute{}, nil
	}
	p, _ := url.Parse(f.proxy)
	return proxyRoute{URL: p, Source: f.source}, nil
}

func TestChooseProxyPrecedence(t *testing.T) {
	const (
		setting = "http://setting.example:3128"
		env     = "http://env.example:8080"
		system  = "http://system.example:80"
	)
	for _, tc := range []struct {
		name, setting string
		env           httpproxy.Config
		system        string
		url           string
		want, source  string // want "": direct
		systemAsked   bool
	}{
		{"setting over env and system", setting, httpproxy.Config{HTTPSProxy: env}, system, "wss://ws.example.com/prod", setting, sourceSetting, false},
		{"direct bypasses env and system", "direct", httpproxy.Config{HTTPSProxy: env, HTTPProxy: env}, system, "https://www.example.com", "", "", false},
		{"DIRECT in any case", " DIRECT ", httpproxy.Config{HTTPSProxy: env}, system, "https://www.example.com", "", "", false},
		{"env over system", "", httpproxy.Config{HTTPSProxy: env}, system, "wss://ws.example.com/prod", env, sourceEnv, false},
		{"env's NO_PROXY, not the system", "", httpproxy.Config{HTTPSProxy: env, NoProxy: ".example.com"}, system, "https://www.example.com", "", "", false},
		{"HTTP_PROXY alone is env's word for https", "", httpproxy.Config{HTTPProxy: env}, system, "https://www.example.com", "", "", false},
		{"system when no variable", "", httpproxy.Config{NoProxy: "other.example"}, system, "wss://ws.example.com/prod", system, sourceSystem, true},
		{"system says direct", "", httpproxy.Config{}, "", "https://www.example.com", "", "", true},
		{"localhost never, even with a setting", setting, httpproxy.Config{}, system, "ws://app.localhost:8000/", "", "", false},
		{"loopback never", "", httpproxy.Config{}, system, "http://127.0.0.1:8000/", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys := &fakeSystem{proxy: tc.system, source: sourceSystem}
			u, _ := url.Parse(tc.url)
			r, err := chooseProxy(tc.setting, u, &tc.env, sys.get)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r.URL != nil {
				got = r.URL.String()
			}
			if got != tc.want || r.Source != tc.source {
				t.Errorf("proxy %q from %q, want %q from %q", got, r.Source, tc.want, tc.source)
			}
			if (sys.calls > 0) != tc.systemAsked {
				t.Errorf("system settings asked %d times, want asked %v", sys.calls, tc.systemAsked)
			}
		})
	}
}

// An invalid HTTPS_PROXY is an error (x/net would silently go direct),
// and the error does not quote it: it may hold a password.
func TestEnvProxyErrorHidesPassword(t *testing.T) {
	u, _ := url.Parse("https://www.example.com")
	_, err := chooseProxy("", u, &httpproxy.Config{HTTPSProxy: "http://user:S3cret@proxy.example:3128\r"}, (&fakeSystem{}).get)
	if err == nil {
		t.Fatal("an invalid HTTPS_PROXY was accepted")
	}
	if strings.Contains(err.Error(), "S3cret") {
		t.Errorf("error %q carries the proxy password", err)
	}
}

func TestProxyFromConf(t *testing.T) {
	static := func(protocols map[string]string, bypass string) sysConf {
		return sysConf{manual: true, protocols: protocols, bypass: bypass}
	}
	pac := sysConf{script: true}
	pacAndStatic := static(map[string]string{"": "manual.corp:8080"}, "")
	pacAndStatic.script = true
	for _, tc := range []struct {
		name       string
		conf       sysConf
		pacAnswer  string
		url        string
		want, from string
	}{
		{"none", sysConf{}, "", "https://www.example.com", "", ""},
		{"one proxy for all, no scheme", static(map[string]string{"": "proxy.corp:8080"}, ""), "", "https://ws.example.com", "http://proxy.corp:8080", sourceSystem},
		{"per protocol", static(map[string]string{"http": "h.corp:1", "https": "s.corp:2"}, ""), "", "https://www.example.com", "http://s.corp:2", sourceSystem},
		{"bypass list with *.", static(map[string]string{"": "proxy.corp:8080"}, "*.example.com,<local>"), "", "https://www.example.com", "", ""},
		{"<local>: names without a dot", static(map[string]string{"": "proxy.corp:8080"}, "<local>"), "", "https://intranet/", "", ""},
		{"<local> leaves dotted names", static(map[string]string{"": "proxy.corp:8080"}, "<local>"), "", "https://www.example.com/", "http://proxy.corp:8080", sourceSystem},
		{"PAC answer", pac, "pac.corp:3128", "https://www.example.com", "http://pac.corp:3128", sourcePAC},
		{"PAC says DIRECT, manual proxy next", pacAndStatic, "", "https://www.example.com", "http://manual.corp:8080", sourceSystem},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.conf.findPAC = func(string) string { return tc.pacAnswer }
			u, _ := url.Parse(tc.url)
			r, err := proxyFromConf(tc.conf, u)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r.URL != nil {
				got = r.URL.String()
			}
			if got != tc.want || r.Source != tc.from {
				t.Errorf("proxy %q from %q, want %q from %q", got, r.Source, tc.want, tc.from)
			}
		})
	}
}

// The PAC script sees scheme and host only: never the path or the query,
// where the WebSocket URL carries its token.
func TestPACSeesNoToken(t *testing.T) {
	var asked []string
	pac := sysConf{script: true, findPAC: func(s string) string { asked = append(asked, s); return "" }}
	sys := func(u *url.URL) (proxyRoute, error) { return proxyFromConf(pac, u) }
	u, _ := url.Parse("wss://ws.example.com/prod?token=SECRETTOKEN&channel=x")
	if _, err := chooseProxy("", u, &httpproxy.Config{}, sys); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != "https://ws.example.com" {
		t.Errorf("the PAC script was asked %q, want [https://ws.example.com]", asked)
	}
}

func TestValidateProxy(t *testing.T) {
	for _, ok := range []string{"", "direct", "Direct", "http://proxy.example:3128", "https://proxy.example", "socks5://127.0.0.1:1080",
		"http://user:p%40ss@proxy.example:3128/", " http://proxy.example:3128 "} {
		if r := validateProxy(ok); r != "" {
			t.Errorf("validateProxy(%q) = %q, want valid", ok, r)
		}
	}
	for _, tc := range []struct{ in, reason string }{
		{"proxy.example:3128", "must start with http://"},
		{"ftp://proxy.example:21", "must start with http://"},
		{"http://", "must be a proxy URL"},
		{"http:///nohost", "must be a proxy URL"},
		{"http://proxy.example:3128/path", "only scheme, host and port"},
		{"http://proxy.example:99999", "invalid port"},
		{"http://user:S3cret@proxy example:3128", "must be a proxy URL"},
		{"http://user:S3cret@proxy.example:3128/x?y", "only scheme, host and port"},
	} {
		r := validateProxy(tc.in)
		if !strings.Contains(r, tc.reason) {
			t.Errorf("validateProxy(%q) = %q, want a reason with %q", tc.in, r, tc.reason)
		}
		if strings.Contains(r, "S3cret") {
			t.Errorf("validateProxy(%q)'s reason %q quotes the password", tc.in, r)
		}
	}
	err := Config{SiteURL: "https://www.example.com", WSURL: "wss://ws.example.com", Proxy: "ftp://u:S3cret@p:1"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "proxy: ") || strings.Contains(err.Error(), "S3cret") {
		t.Errorf("Validate with a bad proxy = %v, want a proxy reason without the password", err)
	}
}

// The proxy setting carries both the token requests and the WebSocket
// (one routeFor for the transport and the dialer), with no variable set:
// the proxy leads every tunnel to the emulator, so example.com (not
// resolvable here, or elsewhere) is reached only through it.
func TestProxySettingCarriesTokenAndWebSocket(t *testing.T) {
	cfg, paddr, tunnels, port := proxiedEmulator(t)
	cfg.Proxy = "http://user:secret@" + paddr
	cfg.UserAgent = "ToastTray/test"
	cfg = cfg.WithDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second) // only a broken test waits that long
	defer cancel()
	sess, err := newSession(cfg, Credentials{Username: "demo", Password: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.dropIdle()
	tok, err := sess.token(ctx)
	if err != nil {
		t.Fatalf("token through the proxy setting: %v", err)
	}
	if n := len(tunnels); n < 1 {
		t.Fatalf("the token request opened %d tunnels", n)
	}
	before := len(tunnels)
	ws, err := dialWS(ctx, cfg, sess, tok)
	if err != nil {
		t.Fatalf("WebSocket through the proxy setting: %v", err)
	}
	ws.Close()
	if n := len(tunnels) - before; n != 1 {
		t.Errorf("the WebSocket opened %d tunnels, want 1", n)
	}
	for len(tunnels) > 0 {
		if h := <-tunnels; h != "example.com:"+port {
			t.Errorf("tunnel to %q", h)
		}
	}
}

// Check names the proxy and where it came from, and never its password.
// A wrong password stops it after the TLS step, before any token.
func TestCheckNamesProxySource(t *testing.T) {
	cfg, paddr, _, _ := proxiedEmulator(t)
	proxyURL := "http://user:secret@" + paddr
	for _, source := range []string{sourceSetting, sourceEnv} {
		t.Run(source, func(t *testing.T) {
			cfg := cfg
			if source == sourceSetting {
				cfg.Proxy = proxyURL
				t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1") // the setting wins
			} else {
				t.Setenv("HTTPS_PROXY", proxyURL)
			}
			var out strings.Builder
			err := Check(context.Background(), cfg, Credentials{Username: "demo", Password: "wrong"}, Options{}, func(st Step) {
				out.WriteString(st.Name + " " + st.Detail + " " + st.Fix + "\n")
			})
			if err == nil || !strings.Contains(err.Error(), "Sign in") {
				t.Fatalf("Check: %v, want a sign-in failure\n%s", err, out.String())
			}
			want := "via proxy " + paddr + " (" + source + ")"
			named := false
			for _, l := range strings.Split(out.String(), "\n") {
				named = named || strings.HasPrefix(l, "TCP ") && strings.Contains(l, want)
			}
			if !named {
				t.Errorf("the TCP step does not say %q:\n%s", want, out.String())
			}
			if strings.Contains(out.String(), "secret") {
				t.Errorf("Check printed the proxy password:\n%s", out.String())
			}
		})
	}
}

// A proxy that refuses the password: the client's status and its debug log
// say so without the password.
func TestProxyPasswordNotInLogOrStatus(t *testing.T) {
	s := wstest.NewServer(wstest.Options{TLS: true})
	defer s.Close()
	emu, _ := url.Parse(s.URL)
	paddr, _ := connectProxy(t, emu.Host) // wants user:secret
	cfg := Config{SiteURL: "https://example.com:" + emu.Port(), WSURL: "wss://example.com:" + emu.Port() + "/" + wstest.DefaultStage,
		CAFile: writeFile(t, "ca.pem", s.CertificatePEM()), Proxy: "http://user:wrong-pw@" + paddr}
	var logs strings.Builder
	var mu sync.Mutex
	failed := make(chan Status, 1)
	c, err := New(cfg, Credentials{Username: "demo", Password: "demo"}, Options{
		Logger:   slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Watchers: []Watcher{},
		OnStatus: func(st Status) {
			if st.Err != "" {
				select {
				case failed <- st:
				default:
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var st Status
	select {
	case st = <-failed:
	case <-time.After(15 * time.Second): // only a broken test waits that long
		t.Fatal("no failed status")
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	t.Logf("status: %s", st.Err)
	if !strings.Contains(st.Err, "Proxy Authentication Required") {
		t.Errorf("status %q does not say the proxy refused", st.Err)
	}
	if all := logs.String() + st.Err; strings.Contains(all, "wrong-pw") {
		t.Errorf("the proxy password leaked:\n%s", all)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// ProxyName never shows a password, not even of a value that is not a
// proxy URL.
func TestProxyName(t *testing.T) {
	for in, want := range map[string]string{
		"":                                       "",
		" Direct ":                               "Direct",
		"http://proxy.example:3128":              "http://proxy.example:3128",
		"http://bob:S3cret@proxy.example:3128":   "http://bob:xxxxx@proxy.example:3128",
		"socks5://bob@127.0.0.1:1080":            "socks5://bob@127.0.0.1:1080",
		"bob:S3cret@proxy.example:3128":          "(not a valid proxy URL)",
		"http://bob:S3cret@proxy example:3128":   "(not a valid proxy URL)",
		"http://bob:S3cret@proxy.example:3128/x": "(not a valid proxy URL)",
	} {
		if got := ProxyName(in); got != want {
			t.Errorf("ProxyName(%q) = %q, want %q", in, got, want)
		}
	}
}

// proxiedEmulator clears the proxy variables and starts a TLS emulator that
// only a CONNECT proxy (connectProxy, password "user:secret") reaches: cfg
// names it example.com (not loopback, so a proxy applies; not resolvable
// here, so only the tunnel gets there) with its CA file; port is its port.
func proxiedEmulator(t *testing.T) (cfg Config, proxyAddr string, tunnels chan string, port string) {
	t.Helper()
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
		t.Setenv(k, "")
	}
	s := wstest.NewServer(wstest.Options{TLS: true})
	t.Cleanup(s.Close)
	emu, _ := url.Parse(s.URL)
	proxyAddr, tunnels = connectProxy(t, emu.Host)
	port = emu.Port()
	cfg = Config{SiteURL: "https://example.com:" + port, WSURL: "wss://example.com:" + port + "/" + wstest.DefaultStage,
		CAFile: writeFile(t, "ca.pem", s.CertificatePEM())}
	return cfg, proxyAddr, tunnels, port
}
