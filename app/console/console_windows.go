//go:build windows

package console

import (
	"os"

	"golang.org/x/sys/windows"
)

// attachParentProcess is ATTACH_PARENT_PROCESS ((DWORD)-1).
const attachParentProcess = ^uint32(0)

var procAttachConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")

// AttachParent points os.Stdout and os.Stderr at the parent's console when
// they are not already connected to something (a redirect to a file or a
// pipe is kept). Without a parent console (started from Explorer or at
// login) it does nothing. Call it before anything captures os.Stdout.
func AttachParent() {
	missing := func(std uint32) bool {
		h, err := windows.GetStdHandle(std)
		return err != nil || h == 0 || h == windows.InvalidHandle
	}
	out, errs := missing(windows.STD_OUTPUT_HANDLE), missing(windows.STD_ERROR_HANDLE)
	if !out && !errs {
		return
	}
	if ok, _, _ := procAttachConsole.Call(uintptr(attachParentProcess)); ok == 0 {
		return // no parent console
	}
	f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	if out {
		os.Stdout = f
	}
	if errs {
		os.Stderr = f
	}
}
