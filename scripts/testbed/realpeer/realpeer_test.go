//go:build realpeer

package realpeer

import (
	"context"
	"testing"
	"time"
)

func TestStartAndState(t *testing.T) {
	p := Start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := p.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Accepting || s.Connections != 0 {
		t.Fatalf("fresh gateway state = %+v, want accepting with no connections", s)
	}
	r, err := p.Push(ctx, "nobody", `{"type":"toast","level":"info","message":"x"}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Targets != 0 {
		t.Fatalf("push to an empty channel reached %d targets", r.Targets)
	}
}
