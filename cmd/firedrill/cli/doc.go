// Package cli is firedrill's command line: urfave/cli/v2 wiring that parses
// flags into options, makes one library call per command, and turns
// results and errors into output and exit codes. Nothing here decides how a
// drill works; it only decides how it is asked for and shown.
//
// Output rules: data (tables, YAML, JSON, plans) goes to stdout; logs
// (log/slog, --log-level, --log-format) and errors go to stderr. Errors are
// printed only here, as "Error: ..." followed by "Hint: ..." when there is
// a fix to suggest.
//
// Exit codes (also in `firedrill --help`):
//
//	0    success
//	1    error, or invalid input (an invalid scenario file, for example)
//	2    usage: unknown command or flag, wrong number of arguments, bad flag value
//	3    it ran, and what it proves did not hold (an objective, a check, a
//	     cadence, an intact bundle)
//	4    another drill held the scratch cluster's Lease past --lock-wait
//	130  interrupted (Ctrl-C or SIGTERM)
package cli
