package wsclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"
)

// probeTimeout bounds the reachability check: TCP and TLS only, the first
// part of a handshake, so it is under DefaultHandshakeTimeout (15 s).
const probeTimeout = 10 * time.Second

// wsAddr returns host:port and whether TLS is used for the WebSocket URL.
func wsAddr(wsURL string) (host, addr string, secure bool, err error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return "", "", false, fmt.Errorf("WebSocket URL: %w", err)
	}
	secure = u.Scheme == "wss" || u.Scheme == "https"
	port := u.Port()
	if port == "" {
		port = "80"
		if secure {
			port = "443"
		}
	}
	return u.Hostname(), net.JoinHostPort(u.Hostname(), port), secure, nil
}

// behindProxy reports whether the WebSocket goes through a proxy, in
// which case the gateway cannot be probed directly.
func behindProxy(cfg Config) bool {
	r, err := routeFor(cfg, cfg.WSURL)
	return err == nil && r.URL != nil
}

// probe checks that the gateway accepts TCP (and TLS) before a token is
// spent on it. It spends nothing on the server side.
func probe(ctx context.Context, cfg Config, sess *session) error {
	if behindProxy(cfg) {
		return nil
	}
	host, addr, secure, err := wsAddr(cfg.WSURL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	nc, err := dialContext(&net.Dialer{})(ctx, "tcp", addr)
	if err != nil {
		return &dialError{Network: true, Err: fmt.Errorf("the gateway %s is unreachable: %w", addr, err)}
	}
	defer nc.Close()
	if !secure {
		return nil
	}
	conf := sess.wsTLS()
	conf.ServerName = host
	if err := tls.Client(nc, conf).HandshakeContext(ctx); err != nil {
		return &dialError{Network: true, Err: fmt.Errorf("TLS with the gateway %s failed: %w", addr, err)}
	}
	return nil
}

// probeHandshake knocks on a gateway that last answered 5xx, without a
// token: a 5xx or network failure means it is still down and no token is
// spent; any other answer (Django refusing the missing token) means the
// path works again. It costs one connection attempt, not a token.
func probeHandshake(ctx context.Context, cfg Config, sess *session) error {
	u, err := url.Parse(cfg.WSURL)
	if err != nil {
		return fmt.Errorf("WebSocket URL: %w", err)
	}
	ws, resp, err := handshake(ctx, dialer(cfg, sess), u.String(), handshakeHeader(cfg, sess))
	if err == nil {
		ws.Close()
		return nil
	}
	if resp == nil {
		return &dialError{Network: true, Err: fmt.Errorf("the gateway is unreachable: %w", err)}
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return &dialError{Status: resp.StatusCode, Err: fmt.Errorf("the gateway is still failing: %s", resp.Status)}
	}
	return nil
}
