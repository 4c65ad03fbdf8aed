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
		if got := backoffDelay(tt.n, base, cap, tt.r); got != tt.want {
			t.Errorf("backoffDelay(%d, r=%v) = %v, want %v", tt.n, tt.r, got, tt.want)
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

// TestRetryAfterDrop: the policy after an open connection ended, with the
// default base (0.5 s) and cap (30 s).
func TestRetryAfterDrop(t *testing.T) {
	const base, cap = 500 * time.Millisecond, 30 * time.Second
	tests := []struct {
		name                 string
		kind                 dropKind
		healthy, established bool
		flaps, exp           int
		r                    float64
		want                 retry
	}{
		{"wake or network change", dropReconnect, false, true, 3, 5, 0.9, retry{0, 5}},
		{"1001 of a healthy connection", dropGoingAway, true, true, 0, 0, 0.9, retry{0, 0}},
		{"server restart: spread over 4.5 s", dropServerClose, true, true, 0, 0, 0.5, retry{2250 * time.Millisecond, firstRetryServerClose}},
		{"server restart: last of the spread", dropServerClose, true, true, 0, 0, 0.999, retry{4495500 * time.Microsecond, firstRetryServerClose}},
		// Abrupt drops of established connections: fast, growing modestly.
		{"isolated abrupt drop: within 0.5 s", dropAbrupt, true, true, 0, 0, 0.999, retry{499500 * time.Microsecond, firstRetryAbrupt}},
		{"isolated abrupt drop: median", dropAbrupt, true, true, 0, 0, 0.5, retry{250 * time.Millisecond, firstRetryAbrupt}},
		{"second flap: 1 s window", dropAbrupt, false, true, 1, 2, 0.5, retry{500 * time.Millisecond, firstRetryAbrupt}},
		{"third flap: 2 s window", dropAbrupt, false, true, 2, 2, 0.5, retry{time.Second, firstRetryAbrupt}},
		{"fourth flap: 4 s window", dropAbrupt, false, true, 3, 2, 0.999, retry{3996 * time.Millisecond, firstRetryAbrupt}},
		{"tenth flap: still 4 s", dropAbrupt, false, true, 9, 2, 0.999, retry{3996 * time.Millisecond, firstRetryAbrupt}},
		{"flap after failed attempts keeps their exponent", dropAbrupt, false, true, 1, 5, 0.5, retry{500 * time.Millisecond, 5}},
		// Not established: like a refused attempt, exponential to the cap.
		{"cut at once, nothing read", dropAbrupt, false, false, 0, 0, 0.5, retry{time.Second, 3}},
		{"cut at once again", dropAbrupt, false, false, 0, 3, 0.5, retry{2 * time.Second, 4}},
		{"cut at once, at the cap", dropAbrupt, false, false, 0, 9, 0.5, retry{cap / 2, 10}},
		{"1001 of a short-lived connection", dropGoingAway, false, true, 0, 0, 0.5, retry{time.Second, 3}},
		{"server close of a short-lived connection", dropServerClose, false, true, 0, 4, 0.5, retry{4 * time.Second, 5}},
	}
	for _, tt := range tests {
		got := retryAfterDrop(tt.kind, tt.healthy, tt.established, tt.flaps, tt.exp, base, cap, tt.r)
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	// A small cap bounds the flap window too.
	if got := retryAfterDrop(dropAbrupt, false, true, 9, 0, base, time.Second, 0.999); got.wait != 999*time.Millisecond {
		t.Errorf("flap window above a 1 s cap: %v", got.wait)
	}
}
