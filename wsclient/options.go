package wsclient

import (
	"context"
	"log/slog"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// Options are the client's collaborators; all optional.
type Options struct {
	Clock     clock.Clock    // default clock.Real
	Logger    *slog.Logger   // default: discard
	OnStatus  func(Status)   // called on every change; must not block
	OnMessage func(Message)  // called in order, once per message (duplicates from rotation removed); hand off quickly
	Rand      func() float64 // in [0,1); default math/rand/v2
	// Watchers notice sleep/wake and network changes. nil means the
	// default ones (a wall-clock jump, an OS network change); an empty
	// non-nil slice means none (tests).
	Watchers []Watcher
	// CatchupSince is the last toast id the app has seen before this Run
	// (it keeps it across restarts); the client then tracks the highest
	// id delivered and asks for what came after it on every connect.
	// Used only with Config.CatchupHandler; "" = nothing seen yet.
	CatchupSince string
}

// Watcher watches for events after which an open socket cannot be trusted
// (sleep/wake, network change). Run calls it before it first connects: it
// takes the state it compares against (wall time, addresses) and returns
// watch, which Run runs in a goroutine and which calls changed with a
// reason each time, until ctx ends. Taking the state before the first
// connection means a change after a connection opened is never missed;
// taken in the goroutine, it once came after a clock jump (RELIABILITY.md,
// S15).
type Watcher func(ctx context.Context, changed func(reason string)) (watch func())
