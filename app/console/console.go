// Package console makes the command-line commands of the Windows build
// print to the console they were started from.
//
// The Windows release is linked as a GUI program (-H windowsgui, so that
// starting the tray from Explorer opens no console window). Such a program
// has no stdout or stderr, and `toasttray check` typed in cmd.exe or
// PowerShell would print nothing. AttachParent attaches to the parent's
// console, when there is one, and points the missing streams at it.
package console
