//go:build !windows

package wsclient

import "net/url"

// systemProxy: outside Windows the proxy comes from the setting or the
// environment (go-ieproxy reads macOS's settings only with cgo, which
// would leave wsclient out of scripts/vet-cross for darwin).
func systemProxy(*url.URL) (proxyRoute, error) { return proxyRoute{}, nil }
