package wsclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpproxy"
	"golang.org/x/net/proxy"
)

// ProxyDirect is the proxy setting for "never use a proxy", even when the
// environment or the system names one.
const ProxyDirect = "direct"

// Where a proxy came from, as check reports it.
const (
	sourceSetting = "setting"
	sourceEnv     = "environment"
	sourceSystem  = "system"
	sourcePAC     = "PAC"
)

// proxyRoute is how the client reaches one URL: nil URL for a direct
// connection, else the proxy and where it came from.
type proxyRoute struct {
	URL    *url.URL
	Source string
}

// systemSource is the operating system's proxy for a URL (source
// sourceSystem or sourcePAC), or nil. A parameter so tests can stand in
// for Windows.
type systemSource func(*url.URL) (proxyRoute, error)

// routeFor is the one place the client decides how to reach rawURL (http,
// https, ws or wss): the token requests' transport, the WebSocket dialer,
// the probe and check all ask it, per URL, at the time of the connection
// (a PAC script answers per host, and the system's settings change).
func routeFor(cfg Config, rawURL string) (proxyRoute, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return proxyRoute{}, fmt.Errorf("proxy for %s: %w", redactURL(rawURL), err)
	}
	return chooseProxy(cfg.Proxy, u, httpproxy.FromEnvironment(), systemProxy)
}

// chooseProxy applies the precedence: the proxy setting ("direct" or a
// URL), else HTTPS_PROXY/HTTP_PROXY/NO_PROXY when either proxy variable is
// set, else the system's. Localhost names are never proxied: a proxy would
// resolve them elsewhere (and loopback addresses stay on this machine).
func chooseProxy(setting string, u *url.URL, env *httpproxy.Config, system systemSource) (proxyRoute, error) {
	u = &url.URL{Scheme: u.Scheme, Host: u.Host} // PAC scripts see no path or query (the token)
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	if isLoopbackHost(u.Hostname()) {
		return proxyRoute{}, nil
	}
	setting = strings.TrimSpace(setting)
	switch {
	case strings.EqualFold(setting, ProxyDirect):
		return proxyRoute{}, nil
	case setting != "":
		p, err := url.Parse(setting)
		if err != nil {
			return proxyRoute{}, errors.New("the proxy setting is not a valid URL") // the URL may hold a password
		}
		return proxyRoute{URL: p, Source: sourceSetting}, nil
	case env.HTTPProxy != "" || env.HTTPSProxy != "":
		name, val := "HTTP_PROXY", env.HTTPProxy
		if u.Scheme == "https" {
			name, val = "HTTPS_PROXY", env.HTTPSProxy
		}
		if _, err := parseProxyAddr(val); val != "" && err != nil {
			// x/net would go direct without a word. No value in the
			// message: it may hold a password.
			return proxyRoute{}, fmt.Errorf("%s is not a valid proxy URL", name)
		}
		p, err := env.ProxyFunc()(u)
		if err != nil {
			return proxyRoute{}, fmt.Errorf("%s: %w", name, err)
		}
		if p == nil {
			return proxyRoute{}, nil
		}
		return proxyRoute{URL: p, Source: sourceEnv}, nil
	}
	return system(u)
}

// sysConf is the system's proxy configuration as go-ieproxy reads it on
// Windows (proxy_windows.go).
type sysConf struct {
	script    bool                    // a PAC script or automatic detection (WPAD)
	findPAC   func(url string) string // the script's answer: "host:port", or "" for DIRECT or none
	manual    bool                    // a manual proxy
	protocols map[string]string       // "http", "https" or "" (all) → "host:port"
	bypass    string                  // comma-separated exceptions to the manual proxy
}

// proxyFromConf applies c to u: the PAC answer first, then the manual
// proxy with its exceptions.
func proxyFromConf(c sysConf, u *url.URL) (proxyRoute, error) {
	if c.script {
		if p := strings.TrimSpace(c.findPAC(u.String())); p != "" {
			pu, err := parseProxyAddr(p)
			if err != nil {
				return proxyRoute{}, fmt.Errorf("the system's proxy script answered an invalid proxy: %w", err)
			}
			return proxyRoute{URL: pu, Source: sourcePAC}, nil
		}
	}
	if !c.manual {
		return proxyRoute{}, nil
	}
	bypass := strings.Split(c.bypass, ",")
	for i, b := range bypass {
		// "<local>": names without a dot (Internet Options' "bypass for local addresses").
		if strings.EqualFold(strings.TrimSpace(b), "<local>") {
			if !strings.Contains(u.Hostname(), ".") {
				return proxyRoute{}, nil
			}
			bypass[i] = ""
		}
	}
	pick := func(scheme string) string {
		if v, ok := c.protocols[scheme]; ok {
			return v
		}
		return c.protocols[""]
	}
	hc := httpproxy.Config{HTTPProxy: pick("http"), HTTPSProxy: pick("https"), NoProxy: strings.Join(bypass, ",")}
	p, err := hc.ProxyFunc()(u)
	if err != nil {
		return proxyRoute{}, errors.New("the system's proxy setting is not a valid proxy address")
	}
	if p == nil {
		return proxyRoute{}, nil
	}
	return proxyRoute{URL: p, Source: sourceSystem}, nil
}

// parseProxyAddr reads a proxy as the system gives it: "host:port" (an
// HTTP proxy) or a URL.
func parseProxyAddr(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, errors.New("not host:port")
	}
	return u, nil
}

// validateProxy returns "" when setting is empty (automatic), "direct",
// or an http, https or socks5 proxy URL with a host; otherwise the reason.
// The reason never quotes the value: it may hold a password.
func validateProxy(setting string) string {
	setting = strings.TrimSpace(setting)
	if setting == "" || strings.EqualFold(setting, ProxyDirect) {
		return ""
	}
	const example = "e.g. http://proxy.example.com:3128, or direct for none, or empty for automatic"
	u, err := url.Parse(setting)
	if err != nil {
		return "must be a proxy URL, " + example
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks5", "socks5h":
	default:
		return "must start with http://, https:// or socks5://, " + example
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return "must be a proxy URL, " + example
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "must be only scheme, host and port, " + example
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has an invalid port, " + example
		}
	}
	return ""
}

// proxyName is the proxy's address for messages: never its credentials.
func proxyName(p *url.URL) string { return p.Host }

// ProxyName is a proxy setting as it may be shown or logged: "" (automatic)
// and "direct" as they are, a proxy URL with its password masked
// (http://bob:xxxxx@proxy.example:3128), anything else not at all: an
// invalid value cannot be told apart from its password.
func ProxyName(setting string) string {
	setting = strings.TrimSpace(setting)
	if setting == "" || strings.EqualFold(setting, ProxyDirect) {
		return setting
	}
	u, err := url.Parse(setting)
	if err != nil || validateProxy(setting) != "" {
		return "(not a valid proxy URL)"
	}
	return u.Redacted()
}

// proxyFunc is the net/http Transport's view of routeFor.
func proxyFunc(cfg Config) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		r, err := routeFor(cfg, req.URL.String())
		return r.URL, err
	}
}

// dialTCP connects to addr the way the client does: directly, or through
// the proxy: an HTTP CONNECT tunnel (over TLS with proxyTLS for an https
// proxy, the proxy URL's user and password as basic authentication), or
// SOCKS5. Errors name the proxy by host:port only.
func dialTCP(ctx context.Context, nd *net.Dialer, p *url.URL, proxyTLS *tls.Config, addr string) (net.Conn, error) {
	dial := dialContext(nd)
	if p == nil {
		return dial(ctx, "tcp", addr)
	}
	scheme := strings.ToLower(p.Scheme)
	if scheme == "socks5" || scheme == "socks5h" {
		d, err := proxy.FromURL(p, ctxDialer(dial))
		if err != nil {
			return nil, fmt.Errorf("the proxy %s: %w", proxyName(p), err)
		}
		nc, err := d.(proxy.ContextDialer).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("through the SOCKS proxy %s to %s: %w", proxyName(p), addr, err)
		}
		return nc, nil
	}
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("the proxy %s has an unsupported scheme %q (use http, https or socks5)", proxyName(p), p.Scheme)
	}
	paddr := p.Host
	if p.Port() == "" {
		paddr = net.JoinHostPort(p.Hostname(), map[bool]string{true: "443", false: "80"}[scheme == "https"])
	}
	nc, err := dial(ctx, "tcp", paddr)
	if err != nil {
		return nil, fmt.Errorf("connecting to the proxy %s: %w", proxyName(p), err)
	}
	raw := nc
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	if scheme == "https" {
		c := proxyTLS.Clone()
		c.ServerName = p.Hostname()
		c.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS with the proxy %s: %w", proxyName(p), err)
		}
		nc = tc
	}
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: http.Header{},
	}
	if u := p.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("asking the proxy %s for %s: %w", proxyName(p), addr, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), req)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("asking the proxy %s for %s: %w", proxyName(p), addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		nc.Close()
		return nil, fmt.Errorf("the proxy %s refused to connect to %s: %s", proxyName(p), addr, resp.Status)
	}
	return nc, nil
}

// ctxDialer lets x/net/proxy's SOCKS5 dialer dial the proxy with our
// dialer and the caller's context.
type ctxDialer func(ctx context.Context, network, addr string) (net.Conn, error)

func (d ctxDialer) Dial(network, addr string) (net.Conn, error) {
	return d(context.Background(), network, addr)
}

func (d ctxDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d(ctx, network, addr)
}
