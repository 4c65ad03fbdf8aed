//go:build !windows

package console

// AttachParent does nothing outside Windows: programs there always have
// the streams they were started with.
func AttachParent() {}
