package wsclient

import "strings"

// Level is a toast's severity, using Django's message level names.
type Level string

// The four levels a site sends; anything else is normalised to LevelInfo.
const (
	LevelSuccess Level = "success"
	LevelInfo    Level = "info"
	LevelWarning Level = "warning"
	LevelError   Level = "error"
)

// Rank orders levels as Django does (info 20 < success 25 < warning 30 <
// error 40), so filters can say "warning and above". Unknown levels rank as
// info.
func (l Level) Rank() int {
	switch l {
	case LevelSuccess:
		return 25
	case LevelWarning:
		return 30
	case LevelError:
		return 40
	}
	return 20
}

// Name is the level for display: "Success", "Info", "Warning", "Error";
// unknown levels read as "Info", as they rank.
func (l Level) Name() string {
	switch l {
	case LevelSuccess:
		return "Success"
	case LevelWarning:
		return "Warning"
	case LevelError:
		return "Error"
	}
	return "Info"
}

// ParseLevel normalises a level name from the wire: case and spaces are
// ignored, common aliases are mapped, and anything unknown becomes info
// (PROTOCOL.md §3: anything may arrive).
func ParseLevel(s string) Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "success", "ok":
		return LevelSuccess
	case "warning", "warn":
		return LevelWarning
	case "error", "danger", "critical", "fatal":
		return LevelError
	}
	return LevelInfo
}
