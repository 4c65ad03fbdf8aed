package wsclient

import (
	"strings"
	"testing"
)

func TestLinkURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://www.example.com/orders/42/?tab=1#x": "https://www.example.com/orders/42/?tab=1#x",
		"http://127.0.0.1:8000/a b":                  "http://127.0.0.1:8000/a%20b",
		"HTTPS://Example.com/":                       "https://Example.com/",
	} {
		if got, ok := LinkURL(in); !ok || got != want {
			t.Errorf("LinkURL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{
		"", "/orders/42/", "www.example.com/x", "file:///etc/passwd", "javascript:alert(1)",
		"mailto:a@example.com", "ftp://example.com/", "https:///path", "https://user@example.com/",
		"https://www.example.com:pw@evil.example/", "https://:@evil.example/", "https://exa mple.com/",
		"https://example.com/\x00", "http://[::1", "https://example.com/" + strings.Repeat("a", MaxURLLen),
	} {
		if got, ok := LinkURL(bad); ok || got != "" {
			t.Errorf("LinkURL(%q) = %q, %v; want refused", bad, got, ok)
		}
	}
}
