package wsclient

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

// TestLocalhostNamesDialLoopback: a *.localhost name is allowed plain
// http/ws because it is this machine, so sign-in, token and handshake must
// reach 127.0.0.1 without asking DNS and without going through a proxy.
// It runs in a child process: Go reads the proxy settings once per
// process, and the child may replace net.DefaultResolver without racing
// other tests.
func TestLocalhostNamesDialLoopback(t *testing.T) {
	const marker = "WSCLIENT_TEST_LOCALHOST"
	if os.Getenv(marker) == "" {
		dead := "http://127.0.0.1:1" // nothing listens: a proxied request fails
		runChild(t, marker+"=1", "HTTP_PROXY="+dead, "HTTPS_PROXY="+dead, "NO_PROXY=", "no_proxy=")
		return
	}
	var lookups atomic.Int32
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		lookups.Add(1)
		return nil, errors.New("this test has no DNS")
	}}
	srv := wstest.NewServer(wstest.Options{})
	defer srv.Close()
	for _, host := range []string{"toasttray-test.localhost", "Toasttray-Test.LOCALHOST."} {
		site := strings.Replace(srv.URL, "127.0.0.1", host, 1)
		ws := strings.Replace(srv.WSURL, "127.0.0.1", host, 1)
		if err := (Config{SiteURL: site, WSURL: ws}).Validate(); err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if err := connectOnce(t, Config{SiteURL: site, WSURL: ws}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if n := lookups.Load(); n != 0 {
		t.Errorf("%d DNS queries", n)
	}
	if c := srv.Counters(); c.Connects != 2 {
		t.Errorf("%d connections, want 2", c.Connects)
	}
}
