package wsclient

// Test hooks for the external test package: they report internal events
// so tests synchronise on them instead of sleeping. Set before Run.
func SetPongHook(c *Client, f func())    { c.hooks.pong = f }
func SetPingHook(c *Client, f func())    { c.hooks.ping = f }
func SetOldGoneHook(c *Client, f func()) { c.hooks.oldGone = f }

// SetPingWrittenHook runs f on the Run goroutine right after a ping's
// write returned; SetPongCheckedHook after a pong deadline was checked.
func SetPingWrittenHook(c *Client, f func()) { c.hooks.pingWritten = f }
func SetPongCheckedHook(c *Client, f func()) { c.hooks.pongChecked = f }

// QueueLen is how many messages wait in the send queue.
func QueueLen(c *Client) int              { return len(c.sendq) }
func SetSwitchedHook(c *Client, f func()) { c.hooks.switched = f }

// RotateOverlap is how long both connections stay open in a rotation.
const RotateOverlap = rotateOverlap
