package wsclient

import (
	"testing"
	"time"
)

func TestBackoffTable(t *testing.T) {
	const base, cap = 500 * time.Millisecond, 30 * time.Second
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0, 0},
		{0, 0.5, 250 * time.Millisecond},
		{0, 0.999, 499500 * time.Microsecond},
		{1, 1, time.Second},
		{2, 0.5, time.Second},
		{3, 0.5, 2 * time.Second},
		{5, 1, 16 * time.Second},
		{6, 1, cap}, // 32 s window capped
		{7, 0.5, cap / 2},
		{100, 0.5, cap / 2}, // no overflow
		{-3, 1, base},
		{2, -1, 0}, // r clamped
		{2, 7, 2 * time.Second},
	}
	for _, tt := range tests {
		if got := Backoff(tt.n, base, cap, tt.r); got != tt.want {
			t.Errorf("Backoff(%d, r=%v) = %v, want %v", tt.n, tt.r, got, tt.want)
		}
	}
}

func TestBudget(t *testing.T) {
	var b budget
	now := time.Unix(0, 0)
	for i := 0; i < budgetTokens; i++ {
		if w := b.wait(now); w != 0 {
			t.Fatalf("token %d: wait %v", i, w)
		}
		b.spend(now)
		now = now.Add(time.Second)
	}
	// 10 tokens at 0..9 s; the next is allowed at 60 s.
	if w := b.wait(now); w != 50*time.Second {
		t.Fatalf("wait %v, want 50s", w)
	}
	if w := b.wait(now.Add(49 * time.Second)); w != time.Second {
		t.Fatalf("a second early: wait %v, want 1s", w)
	}
	if w := b.wait(time.Unix(61, 0)); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
}
