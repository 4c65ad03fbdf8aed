// Package netwatch notices network changes (an interface or address came
// or went, the default route moved), after which an open connection may be
// dead without knowing it. Linux listens to netlink; other systems poll.
package netwatch

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"
)

// settle lets a burst of events (DHCP, Wi-Fi roaming) end before we look.
const settle = 2 * time.Second

// pollEvery is the fallback's period.
const pollEvery = 5 * time.Second

// Start notes the machine's current addresses and subscribes to changes,
// then returns watch, which calls changed with a reason each time the
// usable addresses change, until ctx ends (nil) or an error stops it.
// The state is taken before Start returns, so a change after that is
// never missed, however late watch starts running.
func Start(ctx context.Context) (watch func(changed func(reason string)) error) {
	events, stop, err := subscribe(ctx)
	last := Fingerprint() // after subscribing: a later change sends an event
	if err != nil {
		return func(changed func(string)) error { return poll(ctx, last, changed) }
	}
	return func(changed func(string)) error {
		defer stop()
		var settleC <-chan time.Time
		var t *time.Timer
		defer func() {
			if t != nil {
				t.Stop()
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return nil
			case _, ok := <-events:
				if !ok {
					if ctx.Err() != nil {
						return nil
					}
					return poll(ctx, last, changed)
				}
				if t == nil {
					t = time.NewTimer(settle)
				} else {
					t.Reset(settle)
				}
				settleC = t.C
			case <-settleC:
				settleC = nil
				if now := Fingerprint(); now != last {
					changed(describe(last, now))
					last = now
				}
			}
		}
	}
}

// poll is the portable fallback: compare fingerprints every pollEvery.
// last is the state to compare against.
func poll(ctx context.Context, last string, changed func(string)) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if now := Fingerprint(); now != last {
				changed(describe(last, now))
				last = now
			}
		}
	}
}

// Fingerprint lists the up, non-loopback interfaces with their global
// addresses. Link-local addresses are left out: they come and go without
// changing how we reach the internet.
func Fingerprint() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return "error: " + err.Error()
	}
	var parts []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		var as []string
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || !ipn.IP.IsGlobalUnicast() {
				continue
			}
			as = append(as, ipn.IP.String())
		}
		if len(as) == 0 {
			continue
		}
		sort.Strings(as)
		parts = append(parts, ifc.Name+"="+strings.Join(as, ","))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func describe(before, after string) string {
	return fmt.Sprintf("network changed (%q → %q)", before, after)
}
