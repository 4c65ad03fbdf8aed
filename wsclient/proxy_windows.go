package wsclient

import (
	"net/url"

	"github.com/mattn/go-ieproxy"
)

// systemProxy reads the user's proxy settings through go-ieproxy, which
// asks WinHTTP (WinHttpGetIEProxyConfigForCurrentUser, falling back to the
// Internet Settings registry values) once per process, and runs a PAC
// script or automatic detection (WPAD) with WinHttpGetProxyForUrl per URL.
func systemProxy(u *url.URL) (proxyRoute, error) {
	c := ieproxy.GetConf()
	return proxyFromConf(sysConf{
		script:    c.Automatic.Active,
		findPAC:   c.Automatic.FindProxyForURL,
		manual:    c.Static.Active,
		protocols: c.Static.Protocols,
		bypass:    c.Static.NoProxy,
	}, u)
}
