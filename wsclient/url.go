package wsclient

import (
	"fmt"
	"net/url"
	"strings"
)

// buildURL adds ws_token and channel to the configured WebSocket URL,
// keeping its own query parameters (PROTOCOL.md §2).
func buildURL(wsURL, token, channel string) (string, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return "", fmt.Errorf("WebSocket URL: %w", err)
	}
	q := u.Query()
	q.Set("ws_token", token)
	if channel != "" || !q.Has("channel") {
		q.Set("channel", channel) // empty: the site's default channel
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

// redactURL hides the token (and any other credential-looking parameter) so
// a URL can be logged or shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexByte(raw, '?'); i >= 0 {
			return raw[:i] + "?(redacted)"
		}
		return raw
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			switch strings.ToLower(k) {
			case "ws_token", "token", "sessionid", "csrftoken", "password":
				q[k] = []string{"REDACTED"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
