package wsclient

import (
	"fmt"
	"log/slog"
)

// Credentials sign the client in: Username+Password through the site's
// login form, or a SessionID (+CSRFToken) pasted from a signed-in browser.
// When both are set the session is tried first and the password is the
// fallback once it expires.
type Credentials struct {
	Username, Password, SessionID, CSRFToken string
}

// HasPassword reports whether the client can sign in by itself.
func (c Credentials) HasPassword() bool { return c.Username != "" && c.Password != "" }

// HasSession reports whether a pasted session cookie is present.
func (c Credentials) HasSession() bool { return c.SessionID != "" }

// String never shows a secret, so a stray %v is safe.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{Username:%q Password:%s SessionID:%s CSRFToken:%s}",
		c.Username, redacted(c.Password), redacted(c.SessionID), redacted(c.CSRFToken))
}

// GoString keeps %#v safe too.
func (c Credentials) GoString() string { return c.String() }

// LogValue keeps slog from printing secrets.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", c.Username),
		slog.String("password", redacted(c.Password)),
		slog.String("sessionid", redacted(c.SessionID)),
		slog.String("csrftoken", redacted(c.CSRFToken)),
	)
}

func redacted(s string) string {
	if s == "" {
		return "(empty)"
	}
	return "(redacted)"
}
