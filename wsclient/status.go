package wsclient

import "time"

// State is where the client is in its life.
type State int

// States. Waiting and RateLimited carry Status.Until.
const (
	StateStopped     State = iota // Run not running or returned
	StateConnecting               // signing in, fetching a token, dialing
	StateConnected                // a WebSocket is open
	StateWaiting                  // backing off before the next attempt
	StateRateLimited              // the site refused a token for too many requests; waiting out the window
	StateSignedOut                // no valid session and no password: stopped until credentials change
)

var stateNames = [...]string{"stopped", "connecting", "connected", "waiting", "rate-limited", "signed-out"}

// String is a stable lowercase name, used in logs and JSON output.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// MarshalText makes a State print as its name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Status is a snapshot for the UI; a value, safe to keep.
type Status struct {
	State   State
	Since   time.Time // entered this state
	Until   time.Time // Waiting / RateLimited: when the next attempt starts
	Attempt int       // consecutive failed attempts
	Err     string    // last error, human readable, never a secret
}
