package scenarios

// Log keys of this package's messages.
const (
	logKeyName    = "name"
	logKeySource  = "source"
	logKeyFile    = "file"
	logKeyFiles   = "files"
	logKeyMatches = "matches"
	logKeyErrors  = "errors"
)
