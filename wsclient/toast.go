package wsclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Bounds on what a toast may carry: notification daemons truncate anyway,
// and a hostile or buggy site must not make us hold megabytes per toast.
const (
	MaxTitleLen   = 200  // runes
	MaxMessageLen = 2000 // runes
	MaxURLLen     = 2048 // bytes
)

// toastTypes are the message types that carry a toast (PROTOCOL.md §3).
var toastTypes = map[string]bool{"toast": true, "notification": true}

// Toast is a cleaned, bounded notification ready to show.
type Toast struct {
	Level   Level
	Title   string
	Message string
	URL     string // "" or an absolute http(s) URL without userinfo
	ID      string // the site's id for exactly-once delivery (catchup.go); "" = none
	Catchup bool   // pushed as part of a catch-up backlog, not live
}

// toastFields is the loose wire shape; every field is raw because sites
// send numbers where we expect strings and vice versa.
type toastFields struct {
	Level   json.RawMessage `json:"level"`
	Title   json.RawMessage `json:"title"`
	Message json.RawMessage `json:"message"`
	Body    json.RawMessage `json:"body"`
	Text    json.RawMessage `json:"text"`
	URL     json.RawMessage `json:"url"`
	Link    json.RawMessage `json:"link"`
	Payload json.RawMessage `json:"payload"`
	ID      json.RawMessage `json:"id"`
	Catchup json.RawMessage `json:"catchup"`
}

// Toast reads a toast from a "toast" or "notification" message, with its
// fields flat or nested under "payload" (nested fields win). Text is
// trimmed, bounded and stripped of control characters; the URL is kept only
// if it is absolute http(s) without userinfo.
func (m Message) Toast() (Toast, error) {
	if !toastTypes[m.Type] {
		return Toast{}, fmt.Errorf("%w: type %q", ErrNotToast, m.Type)
	}
	var top toastFields
	if err := json.Unmarshal(m.Raw, &top); err != nil {
		return Toast{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	f := top
	if p := bytes.TrimSpace(top.Payload); len(p) > 0 && p[0] == '{' {
		var nested toastFields
		if err := json.Unmarshal(p, &nested); err != nil {
			return Toast{}, fmt.Errorf("toast payload: %w: %v", ErrNotJSON, err)
		}
		f = merge(nested, top)
	}
	t := Toast{
		Level:   parseWireLevel(f.Level),
		Title:   cleanLine(jsonString(f.Title), MaxTitleLen),
		Message: cleanText(firstString(f.Message, f.Body, f.Text), MaxMessageLen),
		URL:     cleanURL(firstString(f.URL, f.Link)),
		ID:      cleanID(jsonString(f.ID)),
		Catchup: jsonString(f.Catchup) == "true",
	}
	if t.Title == "" && t.Message == "" {
		return Toast{}, fmt.Errorf("%w: no title and no message", ErrNotToast)
	}
	return t, nil
}

// merge takes each field from a, falling back to b.
func merge(a, b toastFields) toastFields {
	pick := func(x, y json.RawMessage) json.RawMessage {
		if len(x) > 0 && string(x) != "null" {
			return x
		}
		return y
	}
	return toastFields{
		Level: pick(a.Level, b.Level), Title: pick(a.Title, b.Title),
		Message: pick(a.Message, b.Message), Body: pick(a.Body, b.Body), Text: pick(a.Text, b.Text),
		URL: pick(a.URL, b.URL), Link: pick(a.Link, b.Link),
		ID: pick(a.ID, b.ID), Catchup: pick(a.Catchup, b.Catchup),
	}
}

func firstString(raws ...json.RawMessage) string {
	for _, r := range raws {
		if s := jsonString(r); strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// parseWireLevel accepts names and Django's numeric levels (20, 25, 30, 40).
func parseWireLevel(raw json.RawMessage) Level {
	s := jsonString(raw)
	if n, err := strconv.Atoi(s); err == nil {
		switch {
		case n >= 40:
			return LevelError
		case n >= 30:
			return LevelWarning
		case n >= 25:
			return LevelSuccess
		}
		return LevelInfo
	}
	return ParseLevel(s)
}

// LinkURL returns the link a click may open, normalised, and whether there
// is one: only an absolute http(s) URL with a host and no userinfo, at most
// MaxURLLen bytes. A server must not make a click run a file:// or
// custom-scheme handler, nor dress up a link as
// "https://www.example.com@evil.example/" (which opens evil.example).
// Toast decoding, notifications and History all apply this one rule.
func LinkURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxURLLen || strings.ContainsFunc(s, isStripped) {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return u.String(), true
}

// cleanURL is LinkURL's link, or "".
func cleanURL(s string) string {
	u, _ := LinkURL(s)
	return u
}
