package notify

import (
	"encoding/xml"
	"strings"
	"testing"
)

// toastDoc is the part of a Windows toast the tests read back.
type toastDoc struct {
	ActivationType string `xml:"activationType,attr"`
	Launch         string `xml:"launch,attr"`
	Duration       string `xml:"duration,attr"`
	Image          struct {
		Src string `xml:"src,attr"`
	} `xml:"visual>binding>image"`
	Texts []string `xml:"visual>binding>text"`
	Audio struct {
		Src    string `xml:"src,attr"`
		Silent string `xml:"silent,attr"`
	} `xml:"audio"`
}

// Hostile text stays text: the toast is well-formed XML whatever the site
// sends, and a click opens the link or asks for the history.
func TestToastXML(t *testing.T) {
	hostile := `]]><action activationType="protocol" arguments="file:///c:/x"/>"' & $(calc)` + "\x01"
	cases := []struct {
		n                         Notification
		act, launch, duration, au string
	}{
		{Notification{Title: hostile, Body: hostile, Icon: `C:\Users\A&B\icons\info.png`, URL: `https://www.example.com/?a=1&b="2"`},
			"protocol", `https://www.example.com/?a=1&b="2"`, "short", "true"},
		{Notification{Title: "5 more notifications", Urgent: true, Sound: true}, "foreground", WindowHistory, "long", ""},
		{Notification{Title: "Signed out", Window: WindowSettings}, "foreground", WindowSettings, "short", "true"},
	}
	for _, c := range cases {
		s := toastXML(c.n)
		var d toastDoc
		if err := xml.Unmarshal([]byte(s), &d); err != nil {
			t.Fatalf("not XML: %v\n%s", err, s)
		}
		if d.ActivationType != c.act || d.Launch != c.launch || d.Duration != c.duration || d.Audio.Silent != c.au {
			t.Errorf("got %+v\nfrom %s", d, s)
		}
		want := []string{c.n.Title}
		if c.n.Body != "" {
			want = append(want, c.n.Body)
		}
		for i := range want { // XML cannot hold U+0001
			want[i] = strings.ReplaceAll(want[i], "\x01", "\uFFFD")
		}
		if len(d.Texts) != len(want) || d.Texts[0] != want[0] || (len(want) > 1 && d.Texts[1] != want[1]) {
			t.Errorf("texts %q, want %q", d.Texts, want)
		}
		if d.Image.Src != c.n.Icon {
			t.Errorf("icon %q, want %q", d.Image.Src, c.n.Icon)
		}
	}
}
