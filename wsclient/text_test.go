package wsclient

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAppendSafeJSON: for any JSON value, the escaped form is valid JSON,
// decodes to the same value, and holds no rune SafeLine would remove.
//
//	go test -run '^$' -fuzz '^FuzzAppendSafeJSON$' -fuzztime 60s ./wsclient
func FuzzAppendSafeJSON(f *testing.F) {
	f.Add([]byte(`{"type":"toast","title":"` + "\u009b2J\u202eevil\u2066" + `","x":"` + "a\xffb" + `"}`))
	f.Add([]byte(`["\u001b]0;t\u0007", "héllo ✓", 1, null]`))
	f.Add([]byte("\"\u0085\u200f\U0001F600\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, data) != nil {
			return
		}
		out := AppendSafeJSON(nil, compact.Bytes())
		if !utf8.Valid(out) || strings.ContainsFunc(string(out), isStripped) {
			t.Fatalf("unsafe output %q", out)
		}
		var want, got any
		if err := json.Unmarshal(compact.Bytes(), &want); err != nil {
			return
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output is not JSON: %v: %q", err, out)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("value changed:\n got %#v\nwant %#v", got, want)
		}
	})
}

func TestSafeLine(t *testing.T) {
	for in, want := range map[string]string{
		"500 \x1b]0;title\x07\x1b[2J ok": "500 ]0;title[2J ok",
		"a\u009b31mb\u202ec\u2069d\xffe": "a31mbcd\uFFFDe",
		"two\nlines\r\n":                 "two lines",
		"plain":                          "plain",
	} {
		if got := SafeLine(in); got != want {
			t.Errorf("SafeLine(%q) = %q, want %q", in, got, want)
		}
	}
}
