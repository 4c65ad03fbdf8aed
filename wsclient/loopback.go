package wsclient

import (
	"context"
	"net"
	"strings"
)

// isLoopbackHost reports whether host is localhost, a name under
// .localhost, or a loopback address; only there do we allow unencrypted
// connections. dialContext and routeFor make sure such names really reach
// this machine.
func isLoopbackHost(host string) bool {
	if isLocalhostName(host) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLocalhostName reports whether host is localhost or *.localhost
// (RFC 6761), case-insensitively and with or without a trailing dot.
func isLocalhostName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// loopbackAddrs are where a localhost name is dialled, IPv4 first as
// Django's runserver listens there.
var loopbackAddrs = []string{"127.0.0.1", "::1"}

// dialContext wraps nd so that localhost names go to a loopback address
// without asking DNS, as browsers do (RFC 6761 §6.3): a resolver or
// network that answered otherwise would receive plain http/ws, password
// and session included. Other addresses are dialled as nd would.
func dialContext(nd *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !isLocalhostName(host) {
			return nd.DialContext(ctx, network, addr)
		}
		var first error
		for _, ip := range loopbackAddrs {
			c, err := nd.DialContext(ctx, network, net.JoinHostPort(ip, port))
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
		}
		return nil, first
	}
}
