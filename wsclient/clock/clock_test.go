package clock

import (
	"testing"
	"time"
)

func TestFakeTimerFiresOnlyWhenAdvanced(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	tm := f.NewTimer(5 * time.Second)
	f.Advance(4 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("timer fired early")
	default:
	}
	f.Advance(time.Second)
	select {
	case got := <-tm.C():
		if !got.Equal(start.Add(5 * time.Second)) {
			t.Fatalf("fired at %v", got)
		}
	default:
		t.Fatal("timer did not fire")
	}
	if f.Waiters() != 0 {
		t.Fatalf("fired timer still pending")
	}
}

func TestFakeTickerAndStop(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tk := f.NewTicker(time.Second)
	f.Advance(time.Second)
	<-tk.C()
	f.Advance(time.Second)
	<-tk.C()
	tk.Stop()
	f.Advance(10 * time.Second)
	select {
	case <-tk.C():
		t.Fatal("stopped ticker fired")
	default:
	}
}

func TestFakeResetAndDeadlines(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tm := f.NewTimer(time.Hour)
	f.NewTimer(2 * time.Second)
	tm.Reset(3 * time.Second)
	got := f.Deadlines()
	if len(got) != 2 || got[0] != 2*time.Second || got[1] != 3*time.Second {
		t.Fatalf("deadlines = %v", got)
	}
	if f.Now() != time.Unix(0, 0) {
		t.Fatal("time moved")
	}
}

func TestBlockUntil(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan struct{})
	go func() { f.NewTimer(time.Second) }()
	if !f.BlockUntil(1, done) {
		t.Fatal("BlockUntil returned false")
	}
	close(done)
	if f.BlockUntil(5, done) {
		t.Fatal("BlockUntil should give up when done closes")
	}
}
