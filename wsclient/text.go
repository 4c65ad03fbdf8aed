package wsclient

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isStripped reports runes that must never reach a notification: control
// characters (a notification daemon may interpret them) and bidi overrides
// (they can disguise text, e.g. a link's real target).
func isStripped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return true // callers that keep them check first
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F:
		return true
	}
	return false
}

// cleanLine makes s a single trimmed line of at most max runes: invalid
// UTF-8 becomes U+FFFD, whitespace controls become spaces, other controls
// vanish.
func cleanLine(s string, max int) string {
	return clean(s, max, false)
}

// maxSafeLine bounds one line of server text in a terminal or a log.
const maxSafeLine = 2000

// SafeLine makes server-controlled text (a status line, a refusal body, a
// close reason) safe to print on a terminal or in a log line: cleanLine's
// rules, so ESC and C1 sequences cannot retitle or clear the terminal and
// bidi overrides cannot disguise the text. Apply it where text leaves for
// the terminal.
func SafeLine(s string) string { return cleanLine(s, maxSafeLine) }

// AppendSafeJSON appends the compact JSON src (as from json.Compact) to dst
// with every rune SafeLine would remove escaped as \uXXXX and invalid UTF-8
// as \ufffd: the same JSON value, but nothing a terminal acts on. Compact
// JSON is ASCII outside strings and has no raw C0 control inside them, so
// DEL and every non-ASCII rune are inside a string.
func AppendSafeJSON(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		if src[i] < utf8.RuneSelf && src[i] != 0x7f {
			dst = append(dst, src[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case isStripped(r):
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = append(dst, src[i:i+size]...)
		}
		i += size
	}
	return dst
}

// cleanText is cleanLine that keeps line breaks (at most two in a row).
func cleanText(s string, max int) string {
	return clean(s, max, true)
}

func clean(s string, max int, multiline bool) string {
	if isPlain(s) && utf8.RuneCountInString(s) <= max && strings.TrimSpace(s) == s {
		return s // fast path: most titles and types need nothing
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(min(len(s), max*4))
	n, newlines := 0, 0
	for _, r := range s {
		if n >= max {
			break
		}
		switch {
		case r == '\r':
			continue
		case r == '\n' && multiline:
			newlines++
			if newlines > 2 {
				continue
			}
		case r == '\n' || r == '\t':
			r = ' '
			newlines = 0
		case isStripped(r):
			continue
		default:
			newlines = 0
		}
		b.WriteRune(r)
		n++
	}
	out := strings.TrimSpace(b.String())
	if n >= max && utf8.RuneCountInString(s) > max && max > 1 {
		runes := []rune(out)
		if len(runes) >= max {
			runes = runes[:max-1]
		}
		out = strings.TrimSpace(string(runes)) + "…"
	}
	return out
}

// isPlain reports whether s is valid UTF-8 without any stripped rune.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			return false // let the slow path look at it
		}
	}
	return true
}
