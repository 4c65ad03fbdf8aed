package wsclient

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// proxyForURL returns the HTTP proxy that the client's transports use for
// rawURL (proxyFor; ws and wss map to http and https), or nil for a
// direct connection.
func proxyForURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	p, err := proxyFor(&http.Request{URL: u})
	if err != nil {
		return nil, fmt.Errorf("proxy settings: %w", err)
	}
	return p, nil
}

// proxyName is the proxy's address for messages: never its credentials.
func proxyName(p *url.URL) string { return p.Host }

// dialTCP connects to addr the way the client does: directly, or through
// proxy with an HTTP CONNECT tunnel (with the proxy URL's user and
// password as basic authentication).
func dialTCP(ctx context.Context, proxy *url.URL, addr string) (net.Conn, error) {
	dial := dialContext(&net.Dialer{Timeout: probeTimeout})
	if proxy == nil {
		return dial(ctx, "tcp", addr)
	}
	paddr := proxy.Host
	if proxy.Port() == "" {
		paddr = net.JoinHostPort(proxy.Hostname(), map[bool]string{true: "443", false: "80"}[proxy.Scheme == "https"])
	}
	nc, err := dial(ctx, "tcp", paddr)
	if err != nil {
		return nil, fmt.Errorf("connecting to the proxy %s: %w", proxyName(proxy), err)
	}
	if proxy.Scheme == "https" {
		nc.Close()
		return nil, fmt.Errorf("the proxy %s is an https:// proxy, which ToastTray's checks do not speak; use http://", proxyName(proxy))
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: http.Header{},
	}
	if u := proxy.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("asking the proxy %s for %s: %w", proxyName(proxy), addr, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), req)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("asking the proxy %s for %s: %w", proxyName(proxy), addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		nc.Close()
		return nil, fmt.Errorf("the proxy %s refused to connect to %s: %s", proxyName(proxy), addr, resp.Status)
	}
	return nc, nil
}
