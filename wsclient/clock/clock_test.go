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

// A timer armed by a goroutine that a jump woke counts from the clock it
// reads (the jump's target) and does not fire in the same jump. The 1 µs
// ticker makes the old step-by-step Advance slow enough for the woken
// goroutine to arm its timer mid-jump, which that Advance then also fired.
func TestFakeJumpFiresOnlyPendingTimers(t *testing.T) {
	start := time.Unix(0, 0)
	f := NewFake(start)
	wake := f.NewTimer(time.Millisecond)
	f.NewTicker(time.Microsecond)
	type armed struct {
		now   time.Time
		timer Timer
	}
	ch := make(chan armed)
	go func() {
		<-wake.C()
		now := f.Now()
		ch <- armed{now, f.NewTimer(5 * time.Millisecond)}
	}()
	f.Advance(time.Second)
	a := <-ch
	if want := start.Add(time.Second); !a.now.Equal(want) {
		t.Fatalf("woken goroutine read %v, want the jump's target %v", a.now, want)
	}
	select {
	case at := <-a.timer.C():
		t.Fatalf("timer armed within the jump fired in it, at %v", at)
	default:
	}
	f.Advance(5*time.Millisecond - time.Nanosecond)
	select {
	case <-a.timer.C():
		t.Fatal("fired early")
	default:
	}
	f.Advance(time.Nanosecond)
	if at := <-a.timer.C(); !at.Equal(a.now.Add(5 * time.Millisecond)) {
		t.Fatalf("fired with %v", at)
	}
}

// A ticker that a jump passes several times ticks once and keeps its
// schedule, like a real one after a stall.
func TestFakeTickerAfterLongJump(t *testing.T) {
	start := time.Unix(0, 0)
	f := NewFake(start)
	tk := f.NewTicker(time.Second)
	f.Advance(10*time.Second + 500*time.Millisecond)
	if at := <-tk.C(); !at.Equal(start.Add(time.Second)) {
		t.Fatalf("tick %v", at)
	}
	select {
	case <-tk.C():
		t.Fatal("a second tick was buffered")
	default:
	}
	if d := f.Deadlines(); len(d) != 1 || d[0] != 500*time.Millisecond {
		t.Fatalf("deadlines %v, want [500ms]", d)
	}
}
