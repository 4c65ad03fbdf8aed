package wsclient_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// A site that does not answer the catch-up handler fails Check's catch-up
// step once its 5-second deadline passes, with a fix.
func TestCheckCatchupUnsupported(t *testing.T) {
	noLeak(t)
	srv := wstest.NewServer(wstest.Options{}) // no catch-up app
	defer srv.Close()
	clk := clock.NewFake(epoch) // Check's own timers only
	cfg := wsclient.Config{SiteURL: srv.URL, WSURL: srv.WSURL, CatchupHandler: "catchup"}
	steps := make(chan wsclient.Step, 20)
	done := make(chan error, 1)
	go func() {
		done <- wsclient.Check(context.Background(), cfg, wsclient.Credentials{Username: "demo", Password: "demo"},
			wsclient.Options{Clock: clk}, func(s wsclient.Step) { steps <- s })
	}()
	for range 2 { // the wait for a first message, then for the answer
		clk.BlockUntil(1, nil)
		clk.Advance(5 * time.Second)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(failsafe):
		t.Fatal("Check did not return")
	}
	close(steps)
	var last wsclient.Step
	for s := range steps {
		last = s
	}
	if err == nil || last.Name != "Catch-up" || last.OK || !strings.Contains(last.Detail, "does not support catch-up") || last.Fix == "" {
		t.Fatalf("err %v, last step %+v", err, last)
	}
}
