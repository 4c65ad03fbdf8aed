package notify

import (
	"encoding/xml"
	"strings"
)

// toastXML is the Windows toast for n (the ToastGeneric schema): the icon
// as app logo, title and body, and what a click does: open n.URL through
// protocol activation (Windows starts the browser, even after the app has
// quit) or, without a URL, foreground activation with its window's name
// (the activation callback opens it). Every
// string is XML-escaped: go-toast's own template pastes them raw (a "]]>"
// or a quote in a toast would break out of it).
func toastXML(n Notification) string {
	act, launch := "foreground", n.window()
	if n.URL != "" {
		act, launch = "protocol", n.URL
	}
	duration := "short"
	if n.Urgent {
		duration = "long"
	}
	var b strings.Builder
	b.WriteString(`<toast activationType="` + act + `" launch="` + xmlEscape(launch) + `" duration="` + duration + `">`)
	b.WriteString(`<visual><binding template="ToastGeneric">`)
	if n.Icon != "" {
		b.WriteString(`<image placement="appLogoOverride" src="` + xmlEscape(n.Icon) + `"/>`)
	}
	b.WriteString(`<text>` + xmlEscape(n.Title) + `</text>`)
	if n.Body != "" {
		b.WriteString(`<text>` + xmlEscape(n.Body) + `</text>`)
	}
	b.WriteString(`</binding></visual>`)
	if n.Sound {
		b.WriteString(`<audio src="ms-winsoundevent:Notification.Default"/>`)
	} else {
		b.WriteString(`<audio silent="true"/>`)
	}
	b.WriteString(`</toast>`)
	return b.String()
}

// xmlEscape escapes s for XML text and attributes; characters XML cannot
// hold become U+FFFD.
func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) //nolint:errcheck // a strings.Builder does not fail
	return b.String()
}
