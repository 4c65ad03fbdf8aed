package wsclient

import "time"

// backoffDelay is the full-jitter delay before retry n (0-based):
// r × min(cap, base×2ⁿ), with r in [0,1). Full jitter spreads a fleet of
// clients that failed together over the whole window instead of moving
// the herd as one (PROTOCOL.md §6). Pure, so it can be table-tested.
func backoffDelay(n int, base, cap time.Duration, r float64) time.Duration {
	if n < 0 {
		n = 0
	}
	window := cap
	if n < 62 && base > 0 && base<<n > 0 && base<<n < cap {
		window = base << n
	}
	r = min(max(r, 0), 1)
	return time.Duration(r * float64(window))
}

// Where the backoff exponent starts after a connection that had been up
// for StableAfter ends. With the default 0.5 s base:
//   - a close frame from the server (restart, 1011, 1012 …) most likely hit
//     every client at once, so spread over serverCloseSpread base periods,
//     [0, 4.5 s): with 200 clients a second holds 22% of them on average.
//     Over [0, 4 s) the busiest second of a 200-client fleet held more
//     than 35% in 2.4% of 20,000 simulated restarts (uniform delays,
//     sliding 1 s window, as TestFleet counts); over 4.5 s in 0.05%, and
//     all are still back within 5 s. Retries after that continue from
//     firstRetryServerClose (an 8 s window);
//   - 1001 going away of one healthy connection (gateway idle or 2-hour
//     limit) reconnects at once;
//   - failed attempts after any drop continue from firstRetryAbrupt (a 2 s
//     window), growing to BackoffCap.
const (
	firstRetryAbrupt      = 2
	firstRetryServerClose = 4
	serverCloseSpread     = 9
)

// An established connection (see retryAfterDrop) that ends without a close
// frame lost its network, most likely this machine's alone: it was
// accepted, so retrying does not hammer a refusing server. The first
// retry is within one base period ([0, 0.5 s)), each further drop before
// a connection lasts StableAfter doubles the window up to flapSpread base
// periods ([0, 4 s)): a link that drops every 8 s is back after 2 s on
// average, and a fixed-period flap cannot cost more than the token budget.
// aliveAfter: a connection that stayed open this long was accepted even if
// it read nothing (a peer that ignores pings on an idle channel); a server
// or proxy that refuses cuts it at once.
const (
	flapSpread = 8
	aliveAfter = 2 * time.Second
)

// retry is the decision after a connection ended: wait, then dial; exp is
// where the failure backoff continues if that attempt fails.
type retry struct {
	wait time.Duration
	exp  int
}

// retryAfterDrop is the reconnect policy after an open connection ended:
// healthy = it lasted StableAfter (then exp is 0), established = it read
// a frame or a pong or lasted aliveAfter, flaps = abrupt drops of
// established connections since the last healthy one, r in [0,1) the
// jitter. A short-lived connection that was not established is treated
// like a refused attempt. Pure, so it can be table-tested.
func retryAfterDrop(kind dropKind, healthy, established bool, flaps, exp int, base, cap time.Duration, r float64) retry {
	switch {
	case kind == dropReconnect:
		return retry{0, exp}
	case kind == dropGoingAway && healthy:
		return retry{0, exp}
	case kind == dropServerClose && healthy:
		spread := min(serverCloseSpread*base, cap)
		return retry{time.Duration(r * float64(spread)), firstRetryServerClose}
	case kind == dropAbrupt && established:
		return retry{backoffDelay(flaps, base, min(flapSpread*base, cap), r), max(exp, firstRetryAbrupt)}
	}
	exp = max(exp, firstRetryAbrupt)
	return retry{backoffDelay(exp, base, cap, r), exp + 1}
}

// Token budget: at most budgetTokens tokens per budgetWindow from one
// client whatever happens (wake storms, flapping networks), half the
// site's default 20 a minute so a second instance of the user still fits.
const (
	budgetTokens = 10
	budgetWindow = time.Minute
)

// rateLimitWait is how long to stay away after "Rate limit exceeded": the
// site counts over a sliding minute, so after a minute every earlier
// request has left the window. rateLimitJitter spreads a fleet.
const (
	rateLimitWait   = time.Minute
	rateLimitJitter = 15 * time.Second
)

// budget remembers when tokens were requested.
type budget struct{ times []time.Time }

// wait returns how long until another token may be requested at now.
func (b *budget) wait(now time.Time) time.Duration {
	cut := now.Add(-budgetWindow)
	i := 0
	for i < len(b.times) && !b.times[i].After(cut) {
		i++
	}
	b.times = b.times[i:]
	if len(b.times) < budgetTokens {
		return 0
	}
	return b.times[0].Add(budgetWindow).Sub(now)
}

func (b *budget) spend(now time.Time) { b.times = append(b.times, now) }
