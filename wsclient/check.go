package wsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// checkFirstFrame is how long Check waits for a first message; a quiet
// site sends none, which is fine. It is not derived from catchupWait: a
// site pushes nothing unasked, so this only catches a greeting or a live
// toast; the catch-up step has its own catchupWait.
const checkFirstFrame = 5 * time.Second

// Step is one stage of Check: what was tried, whether it worked, and if
// not, the likely fix.
type Step struct {
	Name    string
	OK      bool
	Detail  string
	Fix     string
	Elapsed time.Duration
}

// proxyFix names, per proxy source, what to correct.
var proxyFix = map[string]string{
	sourceSetting: "proxy setting",
	sourceEnv:     "HTTPS_PROXY / HTTP_PROXY variables",
	sourceSystem:  "system's proxy settings",
	sourcePAC:     "system's proxy script (PAC)",
}

// Check diagnoses a configuration the way the client connects: DNS → TCP
// → TLS → sign-in → token → handshake → first frame → catch-up (only with
// a catch-up handler: does the site answer it?). It reports one Step
// each and stops at the first failure, which it returns. It spends one
// token, like one connection attempt.
func Check(ctx context.Context, cfg Config, creds Credentials, opts Options, report func(Step)) error {
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real
	}
	run := func(name string, f func() (detail, fix string, err error)) error {
		start := clk.Now()
		detail, fix, err := f()
		st := Step{Name: name, OK: err == nil, Detail: detail, Fix: fix, Elapsed: clk.Now().Sub(start)}
		if err != nil {
			if st.Detail == "" {
				st.Detail = err.Error()
			}
			var te *TokenError
			if errors.As(err, &te) {
				st.Detail = te.Op + ": " + te.Err.Error()
				if st.Fix == "" {
					st.Fix = te.Fix
				}
			}
		}
		report(st)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := run("Settings", func() (string, string, error) {
		if err := cfg.Validate(); err != nil {
			return "", "correct the fields named above", err
		}
		return "valid", "", nil
	}); err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	site, _ := url.Parse(cfg.SiteURL)
	wsHost, wsAddrPort, wsTLS, _ := wsAddr(cfg.WSURL)
	siteAddr := site.Host
	if site.Port() == "" {
		siteAddr = net.JoinHostPort(site.Hostname(), map[bool]string{true: "443", false: "80"}[site.Scheme == "https"])
	}
	type target struct {
		what, host, addr string
		tls              bool
		route            proxyRoute // URL nil: direct
	}
	targets := []*target{{what: "site", host: site.Hostname(), addr: siteAddr, tls: site.Scheme == "https"},
		{what: "gateway", host: wsHost, addr: wsAddrPort, tls: wsTLS}}
	for i, raw := range []string{cfg.SiteURL, cfg.WSURL} {
		r, err := routeFor(cfg, raw)
		if err != nil {
			return run("Proxy", func() (string, string, error) {
				return "", "correct HTTPS_PROXY / HTTP_PROXY or the system's proxy settings, or set the proxy setting", err
			})
		}
		targets[i].route = r
	}
	// via names the route to t for step details.
	via := func(t *target) string {
		if t.route.URL == nil {
			return ""
		}
		return " via proxy " + proxyName(t.route.URL) + " (" + t.route.Source + ")"
	}
	conf, err := tlsConfig(cfg)
	if err != nil {
		return err // Validate checked the CA file
	}
	nd := &net.Dialer{Timeout: probeTimeout}

	if err := run("DNS", func() (string, string, error) {
		var parts []string
		for i, t := range targets {
			if i == 1 && t.host == targets[0].host {
				break // the gateway is on the site's host
			}
			switch {
			case t.route.URL != nil:
				parts = append(parts, t.host+" (resolved by the proxy "+proxyName(t.route.URL)+")")
			case net.ParseIP(t.host) != nil:
				parts = append(parts, t.host+" (an address)")
			case isLocalhostName(t.host):
				parts = append(parts, t.host+" (this machine, never looked up)")
			default:
				addrs, err := net.DefaultResolver.LookupHost(ctx, t.host)
				if err != nil {
					return "", "check the " + t.what + " host name and this machine's DNS or VPN", fmt.Errorf("looking up %s: %w", t.host, err)
				}
				parts = append(parts, t.host+" → "+strings.Join(addrs, ", "))
			}
		}
		return strings.Join(parts, "; "), "", nil
	}); err != nil {
		return err
	}
	if err := run("TCP", func() (string, string, error) {
		var parts []string
		for _, t := range targets {
			nc, err := dialTCP(ctx, nd, t.route.URL, conf, t.addr)
			if err != nil {
				fix := "check the " + t.what + " URL's port; a firewall or proxy may block it"
				if t.route.URL != nil {
					fix = "check the " + proxyFix[t.route.Source] + " (address, user and password) and that the proxy allows connections to " + t.addr
				}
				return "", fix, fmt.Errorf("connecting to %s%s: %w", t.addr, via(t), err)
			}
			nc.Close()
			parts = append(parts, t.addr+" accepts connections"+via(t))
		}
		return strings.Join(parts, "; "), "", nil
	}); err != nil {
		return err
	}
	if err := run("TLS", func() (string, string, error) {
		var parts []string
		for _, t := range targets {
			if !t.tls {
				parts = append(parts, t.what+": no TLS (allowed on loopback only)")
				continue
			}
			nc, err := dialTCP(ctx, nd, t.route.URL, conf, t.addr)
			if err != nil {
				return "", "", fmt.Errorf("connecting to %s%s: %w", t.addr, via(t), err)
			}
			c := conf.Clone()
			c.ServerName = t.host
			tc := tls.Client(nc, c)
			hctx, cancel := context.WithTimeout(ctx, probeTimeout)
			err = tc.HandshakeContext(hctx)
			cancel()
			if err != nil {
				nc.Close()
				return "", "if the " + t.what + " uses a private certificate authority, set the CA file to its PEM bundle", fmt.Errorf("TLS with %s%s: %w", t.addr, via(t), err)
			}
			cs := tc.ConnectionState()
			tc.Close()
			cert := cs.PeerCertificates[0]
			parts = append(parts, fmt.Sprintf("%s: %s, certificate for %s by %s, valid until %s", t.what, tls.VersionName(cs.Version),
				cert.Subject.CommonName, cert.Issuer.CommonName, cert.NotAfter.Format("2006-01-02")))
		}
		return strings.Join(parts, "; "), "", nil
	}); err != nil {
		return err
	}
	sess, err := newSession(cfg, creds)
	if err != nil {
		return err
	}
	defer sess.dropIdle()
	if err := run("Sign in", func() (string, string, error) {
		switch {
		case creds.HasSession():
			return "using the pasted session cookie (checked by the token step)", "", nil
		case creds.HasPassword():
			if err := sess.signIn(ctx); err != nil {
				return "", "", err
			}
			return "signed in as " + creds.Username, "", nil
		}
		return "", "enter a username and password, or paste the sessionid cookie from a signed-in browser", ErrSignedOut
	}); err != nil {
		return err
	}
	var token string
	if err := run("Token", func() (string, string, error) {
		t, err := sess.token(ctx)
		if err != nil {
			return "", "", err
		}
		token = t
		return "the token endpoint gave a fresh token", "", nil
	}); err != nil {
		return err
	}
	var ws *conn
	if err := run("WebSocket handshake", func() (string, string, error) {
		w, err := dialWS(ctx, cfg, sess, token)
		if err != nil {
			var de *dialError
			fix := "check the WebSocket URL"
			if errors.As(err, &de) && !de.Network {
				fix = "the gateway refused: check the WebSocket URL and channel, and that the Site URL is exactly the site's address (Django compares it with the Origin)"
			}
			return "", fix, err
		}
		ws = &conn{ws: w}
		return "connected to " + redactURL(cfg.WSURL), "", nil
	}); err != nil {
		return err
	}
	// One reader for the rest: it ends when the socket is closed below.
	type res struct {
		data []byte
		err  error
	}
	frames, readerDone := make(chan res), make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			_, data, err := ws.readMessage() // the client's size guard
			select {
			case frames <- res{data, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		ws.ws.Close()
		for {
			select {
			case <-frames:
			case <-readerDone:
				return
			}
		}
	}()
	if err := run("First message", func() (string, string, error) {
		t := clk.NewTimer(checkFirstFrame)
		defer t.Stop()
		select {
		case r := <-frames:
			if r.err != nil {
				return "", "the connection was closed at once: check the channel name and the site's logs", fmt.Errorf("reading: %w", r.err)
			}
			m, err := decodeMessage(r.data)
			if err != nil {
				return fmt.Sprintf("received a frame that is not a JSON object (%v); ToastTray ignores such frames", err), "", nil
			}
			return fmt.Sprintf("received a %q message", m.Type), "", nil
		case <-t.C():
			return fmt.Sprintf("connected; no message within %s (normal when the site has nothing to send)", checkFirstFrame), "", nil
		case <-ctx.Done():
			return "", "", ctx.Err()
		}
	}); err != nil || cfg.CatchupHandler == "" {
		return err
	}
	return run("Catch-up", func() (string, string, error) {
		b, err := encodeOutgoing(cfg.RouteKey, cfg.CatchupHandler, map[string]any{"since": ""})
		if err != nil {
			return "", "", err
		}
		if err := ws.ws.WriteMessage(websocket.TextMessage, b); err != nil {
			return "", "", fmt.Errorf("sending the catch-up request: %w", err)
		}
		t := clk.NewTimer(catchupWait)
		defer t.Stop()
		for {
			select {
			case r := <-frames:
				if r.err != nil {
					return "", "check the site's logs", fmt.Errorf("reading: %w", r.err)
				}
				m, err := decodeMessage(r.data)
				if term, ok := m.Terminator(); err == nil && ok {
					return fmt.Sprintf("the site supports catch-up (handler %q answered; its latest id is %q)", cfg.CatchupHandler, term.Last), "", nil
				}
			case <-t.C():
				return "", "install the catch-up app on the site (contrib/django/toasttray_catchup) or clear the catch-up handler; toasts still arrive live, but missed ones are not delivered later",
					fmt.Errorf("no catch-up answer from handler %q within %s: the site does not support catch-up", cfg.CatchupHandler, catchupWait)
			case <-ctx.Done():
				return "", "", ctx.Err()
			}
		}
	})
}
