//go:build integration

package integration_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gen2brain/beeep"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/scripts/testdesk/desk"
)

func TestIntegrationBeeepNotification(t *testing.T) {
	conn := sessionBus(t)
	beeep.AppName = "org.toasttray.ToastTray"
	cases := []struct {
		name    string
		send    func(title, body string, icon any) error
		urgency int
	}{
		{"Notify", beeep.Notify, desk.UrgencyNormal},
		{"Alert", beeep.Alert, desk.UrgencyCritical},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			summary := fmt.Sprintf("%s %s %d", t.Name(), "toast", time.Now().UnixNano())
			body := "Order #42 shipped <b>today</b>"
			if err := c.send(summary, body, assets.LevelIcon("success")); err != nil {
				t.Fatalf("beeep.%s: %v", c.name, err)
			}
			ctx := testContext(t, 10*time.Second)
			n, err := desk.WaitNotification(ctx, conn, func(n desk.Notification) bool { return n.Summary == summary })
			if err != nil {
				t.Fatal(err)
			}
			if n.AppName != beeep.AppName {
				t.Errorf("app name %q, want %q", n.AppName, beeep.AppName)
			}
			if n.Body != body {
				t.Errorf("body %q, want %q", n.Body, body)
			}
			if n.Urgency != c.urgency {
				t.Errorf("urgency %d, want %d", n.Urgency, c.urgency)
			}
			if img, ok := n.Hints["image-data"].(string); !ok || img != "image 128x128" {
				t.Errorf("image-data hint %v, want the 128x128 level icon", n.Hints["image-data"])
			}
		})
	}
}
