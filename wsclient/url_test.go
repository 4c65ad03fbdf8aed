package wsclient

import (
	"strings"
	"testing"
)

func TestBuildURL(t *testing.T) {
	tests := []struct{ ws, tok, ch, want string }{
		{"wss://ws.example.com", "abc", "news", "wss://ws.example.com?channel=news&ws_token=abc"},
		{"wss://x.execute-api.eu-west-1.amazonaws.com/prod?site=a", "t0k", "", "wss://x.execute-api.eu-west-1.amazonaws.com/prod?channel=&site=a&ws_token=t0k"},
		{"wss://ws.example.com/p?channel=fromurl", "t", "", "wss://ws.example.com/p?channel=fromurl&ws_token=t"},
		{"wss://ws.example.com/?a=1&a=2#frag", "a b&c", "x-y_z", "wss://ws.example.com/?a=1&a=2&channel=x-y_z&ws_token=a+b%26c"},
	}
	for _, tt := range tests {
		got, err := buildURL(tt.ws, tt.tok, tt.ch)
		if err != nil || got != tt.want {
			t.Errorf("buildURL(%q,%q,%q) = %q, %v; want %q", tt.ws, tt.tok, tt.ch, got, err, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := buildURL("wss://ws.example.com/prod?keep=1", "deadbeefsecret", "news")
	got := redactURL(u)
	if strings.Contains(got, "deadbeef") || !strings.Contains(got, "keep=1") || !strings.Contains(got, "channel=news") {
		t.Fatalf("redactURL = %q", got)
	}
	if got := redactURL("wss://u:pw@h/?ws_token=zz"); strings.Contains(got, "pw") || strings.Contains(got, "zz") {
		t.Fatalf("redactURL = %q", got)
	}
}
