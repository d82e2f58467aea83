package cli

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// suggestDistance is the largest edit distance at which a name is offered
// as "did you mean": kubectl's (cobra's SuggestionsMinimumDistance, 2).
// urfave/cli's own SuggestCommand and SuggestFlag are not used: they rank
// by Jaro-Winkler with no threshold, so they always offer something, also
// for a word that is nothing like any command.
const suggestDistance = 2

// suggestions are the names close to typed, as cobra finds them: within
// suggestDistance edits (case-insensitive), or starting with what was
// typed; the closest first, at most three.
func suggestions(typed string, names []string) []string {
	type cand struct {
		name string
		d    int
	}
	var found []cand
	low := strings.ToLower(typed)
	for _, n := range names {
		ln := strings.ToLower(n)
		d := levenshtein(low, ln)
		switch {
		case d <= suggestDistance && d < len(ln):
		case len(low) > 1 && strings.HasPrefix(ln, low):
			d = suggestDistance + 1
		default:
			continue
		}
		if !slices.ContainsFunc(found, func(c cand) bool { return c.name == n }) {
			found = append(found, cand{n, d})
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].d < found[j].d })
	var out []string
	for i := 0; i < len(found) && i < 3; i++ {
		out = append(out, found[i].name)
	}
	return out
}

// levenshtein is the number of single-character insertions, deletions and
// substitutions that turn a into b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

// didYouMean is the start of a hint naming the suggestions, or "".
func didYouMean(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return "did you mean " + strings.Join(s, " or ") + "? "
}

// commandSuggestions are the commands of cmds close to typed.
func commandSuggestions(cmds []*cli.Command, typed string) []string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	return suggestions(typed, names)
}

// flagSuggestions are the flags (as --name or -n) close to typed (without
// its dashes) among flags and the global flags.
func flagSuggestions(typed string, flagSets ...[]cli.Flag) []string {
	var names []string
	for _, flags := range flagSets {
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
	}
	names = append(names, "help")
	var out []string
	for _, n := range suggestions(typed, names) {
		if len(n) == 1 {
			out = append(out, "-"+n)
		} else {
			out = append(out, "--"+n)
		}
	}
	return out
}

// goFlagName matches the flag name in the errors of Go's flag package,
// which urfave/cli passes on: "flag provided but not defined: -outptu",
// "flag needs an argument: -o", "invalid value \"x\" for flag -step-timeout".
var goFlagName = regexp.MustCompile(`(: | flag )-([^\s:=]+)`)

// usageOfFlags turns an error of Go's flag package into firedrill's: the
// flag as the user typed it (--outptu, not -outptu), and for an unknown
// flag the close ones. typed is the command line as given.
func usageOfFlags(c *cli.Context, err error, typed []string) error {
	msg := err.Error()
	m := goFlagName.FindStringSubmatchIndex(msg)
	if m == nil {
		return usageErrorf(helpHint(c), "%s", msg)
	}
	name := msg[m[4]:m[5]]
	asTyped := typedFlag(name, typed)
	msg = msg[:m[4]-1] + asTyped + msg[m[5]:]
	if strings.HasPrefix(msg, "flag provided but not defined: ") {
		var flags []cli.Flag
		if c.Command != nil {
			flags = c.Command.Flags
		}
		return usageErrorf(didYouMean(flagSuggestions(name, flags, c.App.Flags))+helpHint(c), "unknown flag %s", asTyped)
	}
	return usageErrorf(helpHint(c), "%s", msg)
}

// typedFlag is the flag name as it was typed on the command line: with one
// dash or two.
func typedFlag(name string, typed []string) string {
	for _, t := range typed {
		if t == "--" {
			break
		}
		if n, _, _ := strings.Cut(t, "="); n == "--"+name || n == "-"+name {
			return n
		}
	}
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// unknownCommandError is the error of a command name that is not one,
// with the close ones.
func unknownCommandError(c *cli.Context, typed string) error {
	var cmds []*cli.Command
	if c.Command != nil && c.Command.Name != c.App.Name {
		cmds = c.Command.Subcommands
	} else {
		cmds = c.App.Commands
	}
	return usageErrorf(didYouMean(quoteAll(commandSuggestions(cmds, typed)))+helpHint(c), "unknown command %q", typed)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("'%s'", v)
	}
	return out
}
