//go:build !race

package tray

// raceDetector is true in a -race build (see TestSysTrayOverDBus).
const raceDetector = false
