package cli

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets flags follow arguments, as in
// `firedrill plan region-loss -o json`. urfave/cli/v2 stops parsing flags at
// the first argument, so every flag is moved to just after the command it
// belongs to (global flags to just after the program name). Anything after
// "--" stays as it is.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	type level struct {
		name  string // empty for the app
		flags []cli.Flag
		subs  []*cli.Command
		opts  []string
		args  []string
	}
	levels := []*level{{flags: app.Flags, subs: app.Commands}}
	var rest []string
	cur := levels[0]
	for i := 1; i < len(args); i++ {
		tok := args[i]
		if tok == "--" {
			rest = args[i:]
			break
		}
		if strings.HasPrefix(tok, "-") && len(tok) > 1 {
			name, _, hasValue := strings.Cut(strings.TrimLeft(tok, "-"), "=")
			owner, f := cur, findFlag(cur.flags, name)
			for j := len(levels) - 1; f == nil && j >= 0; j-- {
				if g := findFlag(levels[j].flags, name); g != nil {
					owner, f = levels[j], g
				}
			}
			owner.opts = append(owner.opts, tok)
			if f != nil && takesValue(f) && !hasValue && i+1 < len(args) {
				i++
				owner.opts = append(owner.opts, args[i])
			}
			continue
		}
		if len(cur.args) == 0 {
			if sub := findCommand(cur.subs, tok); sub != nil {
				next := &level{name: tok, flags: sub.Flags, subs: sub.Subcommands}
				levels = append(levels, next)
				cur = next
				continue
			}
		}
		cur.args = append(cur.args, tok)
	}
	out := []string{args[0]}
	for _, l := range levels {
		if l.name != "" {
			out = append(out, l.name)
		}
		out = append(out, l.opts...)
		// Arguments of a level with a subcommand below it cannot exist: a
		// subcommand is only recognised before any argument.
		out = append(out, l.args...)
	}
	return append(out, rest...)
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	if name == "help" || name == "h" {
		return cli.HelpFlag
	}
	return nil
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	if df, ok := f.(cli.DocGenerationFlag); ok {
		return df.TakesValue()
	}
	return true
}
