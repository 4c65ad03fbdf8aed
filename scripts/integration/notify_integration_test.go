//go:build integration

package integration_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gen2brain/beeep"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/scripts/testdesk/desk"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
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

// Clicks on the app's notifications, over the session bus: the test
// notification server clicks them as a user would (ActionInvoked, then
// NotificationClosed). A toast's link opens in the browser (the opener
// stands in for xdg-open); a toast without a usable link and the summary
// of a coalesced burst open the history.
func TestIntegrationNotifyClick(t *testing.T) {
	conn := sessionBus(t)
	opened := make(chan string, 10)
	history := make(chan string, 10)
	n := notify.NewBeeep(notify.BeeepOptions{
		AppName: "ToastTray", IconDir: t.TempDir(),
		OpenURL: func(u string) error { opened <- u; return nil },
		OnOpen:  func(w string) { history <- w },
	})
	t.Cleanup(n.Close)
	// A burst of one per window: the second and third toasts become a
	// summary.
	clk := clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	gate := notify.NewGate(n, notify.GateOptions{Clock: clk, Burst: 1, Window: time.Minute})
	t.Cleanup(gate.Close)
	ctx := testContext(t, 30*time.Second)
	site := "https://www.example.com"
	stamp := time.Now().UnixNano()

	// show pushes a toast through the gate (or straight to the Notifier)
	// and returns what the server received.
	show := func(toast wsclient.Toast, direct bool) desk.Notification {
		t.Helper()
		toast.Title = fmt.Sprintf("%s %d", toast.Title, stamp)
		nn := notify.FromToast(toast, site, false)
		if direct {
			if err := n.Notify(nn); err != nil {
				t.Fatal(err)
			}
		} else {
			gate.Submit(nn)
		}
		got, err := desk.WaitNotification(ctx, conn, func(x desk.Notification) bool { return x.Summary == nn.Title })
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	click := func(id uint32, key string) {
		t.Helper()
		if err := desk.InvokeAction(ctx, conn, id, key); err != nil {
			t.Fatal(err)
		}
	}
	wantOpened := func(want string) {
		t.Helper()
		select {
		case u := <-opened:
			if u != want {
				t.Fatalf("opened %q, want %q", u, want)
			}
		case <-ctx.Done():
			t.Fatalf("%q was not opened", want)
		}
	}
	wantHistory := func() {
		t.Helper()
		select {
		case w := <-history:
			if w != notify.WindowHistory {
				t.Fatalf("opened %q, want the history", w)
			}
		case <-ctx.Done():
			t.Fatal("the history was not opened")
		}
	}

	link := "https://www.example.com/orders/42/?a=1&b=2"
	shipped := show(wsclient.Toast{Level: "success", Title: "Shipped", Message: "Order #42", URL: link}, false)
	if want := []string{"default", "Open", "open", "Open"}; !slices.Equal(shipped.Actions, want) {
		t.Fatalf("actions %q, want %q", shipped.Actions, want)
	}
	click(shipped.ID, "default")
	wantOpened(link)

	// Coalesced: they come back as a summary once the burst is over.
	gate.Submit(notify.FromToast(wsclient.Toast{Level: "info", Title: "Coalesced", URL: link}, site, false))
	gate.Submit(notify.FromToast(wsclient.Toast{Level: "info", Title: "Coalesced too"}, site, false))
	clk.BlockUntil(1, nil)
	clk.Advance(notify.DefaultSettle)
	summary, err := desk.WaitNotification(ctx, conn, func(x desk.Notification) bool {
		return x.ID > shipped.ID && x.AppName == "ToastTray"
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"default", "Notification history"}; !slices.Equal(summary.Actions, want) {
		t.Fatalf("summary %q: actions %q, want %q", summary.Summary, summary.Actions, want)
	}
	click(summary.ID, "default")
	wantHistory()

	// A link the app must not open: the click opens the history instead.
	file := show(wsclient.Toast{Level: "warning", Title: "File link", URL: "file:///etc/passwd"}, true)
	click(file.ID, "default")
	wantHistory()

	// The Open button, where the server offers buttons.
	other := "http://127.0.0.1:8000/reports/7/"
	report := show(wsclient.Toast{Level: "info", Title: "Report ready", URL: other}, true)
	click(report.ID, "open")
	wantOpened(other)

	if len(opened) != 0 || len(history) != 0 {
		t.Fatalf("extra clicks handled: %d opened, %d history", len(opened), len(history))
	}
}
