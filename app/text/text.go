// Package text holds the string rules that more than one app package
// applies to text it shows or writes. Bounding a toast's text is not here:
// wsclient does that once, where a toast is decoded.
package text

import "strings"

// OneLine collapses every run of whitespace, line breaks included, to one
// space and trims the ends: for a list row, a menu line or a key=value
// line that a line break would end early.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
