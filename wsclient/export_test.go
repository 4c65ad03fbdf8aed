package wsclient

// Test hooks for the external test package: they report internal events
// (see traceEvent) so tests synchronise on them instead of sleeping. Set
// before Run.
func SetPongHook(c *Client, f func())        { setTrace(c, tracePong, f) }
func SetPingHook(c *Client, f func())        { setTrace(c, tracePing, f) }
func SetOldGoneHook(c *Client, f func())     { setTrace(c, traceOldGone, f) }
func SetSwitchedHook(c *Client, f func())    { setTrace(c, traceSwitched, f) }
func SetPingWrittenHook(c *Client, f func()) { setTrace(c, tracePingWritten, f) }
func SetPongCheckedHook(c *Client, f func()) { setTrace(c, tracePongChecked, f) }
func SetFrameHook(c *Client, f func())       { setTrace(c, traceFrame, f) }

func setTrace(c *Client, e traceEvent, f func()) {
	if c.trace == nil {
		c.trace = new(trace)
	}
	c.trace[e] = f
}

// RotateOverlap is how long both connections stay open in a rotation.
const RotateOverlap = rotateOverlap
