package wsclient

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// knownTypes are the message types the docs mention (PROTOCOL.md §3);
// others are counted as unknown (but still delivered to OnMessage).
var knownTypes = map[string]bool{
	"toast": true, "notification": true, "system": true, "chat_message": true, "task_progress": true,
	"resource_updated": true, "report_ready": true, "reply": true, "history": true, "channel_changed": true,
	CatchupType: true,
}

// Stats are counters since New; for diagnostics, tests and the scenario.
type Stats struct {
	Frames      int64 // frames read
	Delivered   int64 // messages passed to OnMessage
	Duplicates  int64 // dropped during rotation overlap
	Binary      int64 // binary frames ignored
	NotJSON     int64 // text frames that are not JSON
	NotObject   int64 // JSON that is not an object
	UnknownType int64 // delivered, but not a documented type
	Tokens      int64 // tokens fetched
	Connects    int64 // WebSocket connections opened
	Rotations   int64 // make-before-break switches
	PongTimeout int64 // connections replaced for a missed pong
	// CatchupTimeout: connections replaced for not answering catch-up
	// (catchup.go).
	CatchupTimeout int64
}

type stats struct {
	frames, delivered, duplicates, binary, notJSON, notObject, unknown atomic.Int64
	tokens, connects, rotations, pongTimeout, catchupTimeout           atomic.Int64
}

func (s *stats) snapshot() Stats {
	return Stats{
		Frames: s.frames.Load(), Delivered: s.delivered.Load(), Duplicates: s.duplicates.Load(),
		Binary: s.binary.Load(), NotJSON: s.notJSON.Load(), NotObject: s.notObject.Load(),
		UnknownType: s.unknown.Load(), Tokens: s.tokens.Load(), Connects: s.connects.Load(),
		Rotations: s.rotations.Load(), PongTimeout: s.pongTimeout.Load(), CatchupTimeout: s.catchupTimeout.Load(),
	}
}

// dispatch decodes one frame and hands it on; ok reports a delivered
// message. Bad frames are counted and logged at debug level: anything may
// arrive, nothing is fatal.
func (c *Client) dispatch(typ int, data []byte) (m Message, ok bool) {
	c.stats.frames.Add(1)
	if typ != websocket.TextMessage {
		c.stats.binary.Add(1)
		c.log.Debug("ignoring a binary frame", "bytes", len(data))
		return m, false
	}
	m, err := decodeMessage(data)
	if err != nil {
		if err == ErrNotObject {
			c.stats.notObject.Add(1)
		} else {
			c.stats.notJSON.Add(1)
		}
		if c.log.Enabled(context.Background(), slog.LevelDebug) {
			c.log.Debug("ignoring a frame", "err", err, "bytes", len(data))
		}
		return m, false
	}
	c.stats.delivered.Add(1)
	if c.opts.OnMessage != nil {
		c.opts.OnMessage(m)
	}
	if !knownTypes[m.Type] {
		c.stats.unknown.Add(1)
		if c.log.Enabled(context.Background(), slog.LevelDebug) {
			c.log.Debug("message of an unknown type", "type", m.Type)
		}
	}
	return m, true
}

// dedup drops the copies of a message that arrive on both connections
// while a rotation overlaps them. It counts each payload per connection
// and delivers only when one connection has seen it more often than it was
// delivered, so a site that really sends the same thing twice still gets
// both through.
type dedup struct {
	seed maphash.Seed
	seen map[uint64]*dupCount
}

type dupCount struct {
	delivered int
	perSlot   [2]int
}

func newDedup() *dedup { return &dedup{seed: maphash.MakeSeed(), seen: map[uint64]*dupCount{}} }

// accept reports whether data, received on slot (0 or 1), is new.
func (d *dedup) accept(slot int, data []byte) bool {
	h := maphash.Bytes(d.seed, data)
	n := d.seen[h]
	if n == nil {
		n = &dupCount{}
		d.seen[h] = n
	}
	n.perSlot[slot]++
	if n.perSlot[slot] > n.delivered {
		n.delivered = n.perSlot[slot]
		return true
	}
	return false
}
