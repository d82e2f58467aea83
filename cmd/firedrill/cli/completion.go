package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// completeCommand is the hidden command the completion scripts run:
// `firedrill __complete WORD... CURRENT` prints, one a line, what may
// replace CURRENT (the word under the cursor, possibly empty) after the
// words before it. Run answers it before the command line is parsed, so a
// half-typed command line is never an error. It prints nothing when the
// shell should complete file names.
const completeCommand = "__complete"

// The completion scripts, one per shell. Each passes the words of the
// command line up to the cursor to `firedrill __complete` and offers what
// it prints; with nothing printed the shell completes file names.
// urfave/cli's bundled scripts ask the command line itself
// (--generate-bash-completion), which parses it and fails on half-typed
// flags, and it has none for fish.
var completionScripts = map[string]string{
	"bash": `# bash completion for firedrill. Load it with:
#   source <(firedrill completion bash)
_firedrill() {
  local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n'
  COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _firedrill firedrill
`,
	"zsh": `#compdef firedrill
# zsh completion for firedrill. Load it with:
#   source <(firedrill completion zsh)
# or write it as _firedrill into a directory of $fpath.
_firedrill() {
  local -a candidates
  candidates=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ -n "${candidates[1]}" ]]; then
    compadd -a candidates
  else
    _files
  fi
}
if [[ "${funcstack[1]}" == "_firedrill" ]]; then
  _firedrill "$@"
else
  compdef _firedrill firedrill
fi
`,
	"fish": `# fish completion for firedrill. Load it with:
#   firedrill completion fish | source
# or write it to ~/.config/fish/completions/firedrill.fish.
function __firedrill_complete
    set -l words (commandline -opc)
    $words[1] __complete $words[2..-1] (commandline -ct) 2>/dev/null
end
complete -c firedrill -a '(__firedrill_complete)'
`,
}

func (a *app) completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		UsageText: "firedrill completion bash|zsh|fish",
		Description: `Prints a script that completes firedrill's commands, flags, scenario names
(as 'firedrill scenarios list' finds them), drill ids (of the state
directory, or --state-dir's) and the values of -o, --log-format and
--log-level.

Exit codes: 0 printed, 2 usage (no shell, or one of another name).

Examples:
  source <(firedrill completion bash)         # in ~/.bashrc
  source <(firedrill completion zsh)          # in ~/.zshrc, after compinit
  firedrill completion fish > ~/.config/fish/completions/firedrill.fish`,
		Action: a.completion,
	}
}

func (a *app) completion(c *cli.Context) error {
	shells := []string{"bash", "zsh", "fish"}
	if c.NArg() != 1 || !slices.Contains(shells, c.Args().First()) {
		return usageErrorf(helpHint(c), "completion needs one shell: %s", strings.Join(shells, ", "))
	}
	_, err := fmt.Fprint(a.env.Stdout, completionScripts[c.Args().First()])
	return err
}

// argKind is what a command's arguments are, for completion.
type argKind int

const (
	argNone argKind = iota
	argScenario
	argDrill
)

// completedArgs are the commands (by path) whose arguments are completed:
// scenario names or drill ids. first says only the first argument is.
var completedArgs = map[string]struct {
	kind  argKind
	first bool
}{
	"plan":            {argScenario, true},
	"run":             {argScenario, true},
	"restore":         {argScenario, true},
	"verify":          {argScenario, true},
	"scenarios show":  {argScenario, true},
	"history":         {argScenario, true},
	"due":             {argScenario, false},
	"history show":    {argDrill, true},
	"cleanup":         {argDrill, true},
	"evidence export": {argDrill, true},
}

// flagValues are the fixed values of flags that are not an output format.
var flagValues = map[string][]string{
	"log-format": {"text", "json"},
	"log-level":  {"debug", "info", "warn", "error"},
}

// complete answers `firedrill __complete WORD...`: the candidates for the
// last word, in the order the command defines them, filtered by its
// prefix.
func (a *app) complete(ctx context.Context, root *cli.App, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	var (
		path    []string
		cmd     *cli.Command
		flags   = [][]cli.Flag{root.Flags} // the flags of each level, outermost first
		subs    = root.Commands
		nargs   int
		pending cli.Flag // a flag whose value is the last word
		set     = map[string][]string{}
	)
	for i := 0; i < len(words)-1; i++ {
		tok := words[i]
		if tok == "--" {
			return nil
		}
		if strings.HasPrefix(tok, "-") && len(tok) > 1 {
			name, value, hasValue := strings.Cut(strings.TrimLeft(tok, "-"), "=")
			f := findFlagIn(flags, name)
			if f == nil || !takesValue(f) || hasValue {
				set[name] = append(set[name], value)
				continue
			}
			if i+1 == len(words)-1 {
				pending = f
				break
			}
			i++
			set[f.Names()[0]] = append(set[f.Names()[0]], words[i])
			continue
		}
		if nargs == 0 {
			if sub := findCommand(subs, tok); sub != nil {
				cmd, subs = sub, sub.Subcommands
				path = append(path, sub.Name)
				flags = append(flags, sub.Flags)
				continue
			}
		}
		nargs++
	}
	var out []string
	switch {
	case pending != nil:
		out = a.flagCandidates(ctx, pending, set)
	case strings.HasPrefix(cur, "-"):
		// The command's own flags, then the global ones.
		levels := [][]cli.Flag{flags[len(flags)-1]}
		if len(flags) > 1 {
			levels = append(levels, flags[0])
		}
		for _, l := range levels {
			for _, f := range l {
				if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
					continue
				}
				for _, n := range f.Names() {
					out = append(out, dashed(n))
				}
			}
		}
		out = append(out, "--help")
	default:
		if nargs == 0 {
			for _, s := range subs {
				if !s.Hidden {
					out = append(out, s.Name)
				}
			}
		}
		if ca, ok := completedArgs[strings.Join(path, " ")]; ok && (nargs == 0 || !ca.first) && cmd != nil {
			out = append(out, a.argCandidates(ctx, ca.kind, set)...)
		}
	}
	var matched []string
	for _, c := range out {
		if strings.HasPrefix(c, cur) && !slices.Contains(matched, c) {
			matched = append(matched, c)
		}
	}
	return matched
}

// findFlagIn finds a flag by name in the levels, innermost first.
func findFlagIn(levels [][]cli.Flag, name string) cli.Flag {
	for i := len(levels) - 1; i >= 0; i-- {
		if f := findFlag(levels[i], name); f != nil {
			return f
		}
	}
	return nil
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagCandidates are the values of flag f: the formats of an output flag
// (read from its usage, "print as FORMAT: table, json, yaml", as
// output.namedFlag writes it), scenario names for --scenario, and the
// fixed values of flagValues; none (file names) for the rest.
func (a *app) flagCandidates(ctx context.Context, f cli.Flag, set map[string][]string) []string {
	name := f.Names()[0]
	if v, ok := flagValues[name]; ok {
		return v
	}
	if name == "scenario" {
		return a.argCandidates(ctx, argScenario, set)
	}
	if df, ok := f.(cli.DocGenerationFlag); ok {
		if _, formats, ok := strings.Cut(df.GetUsage(), "`FORMAT`: "); ok {
			return strings.Split(formats, ", ")
		}
	}
	return nil
}

// argCandidates are the scenario names 'scenarios list' shows (with the
// --scenario-dir directories of the command line) or the drill ids of the
// state directory (--state-dir of the command line, else the default).
// An error gives no candidates: completion never prints one.
func (a *app) argCandidates(ctx context.Context, kind argKind, set map[string][]string) []string {
	var out []string
	switch kind {
	case argScenario:
		a.scenarioDirs = set["scenario-dir"]
		entries, _ := scenarios.List(ctx, a.scenarioEnv())
		for _, e := range entries {
			if e.Err == nil && !e.Shadowed {
				out = append(out, e.Name)
			}
		}
	case argDrill:
		fs := flag.NewFlagSet(completeCommand, flag.ContinueOnError)
		dir := ""
		if v := set["state-dir"]; len(v) > 0 {
			dir = v[len(v)-1]
		}
		fs.String("state-dir", dir, "")
		state, err := a.stateDir(cli.NewContext(nil, fs, nil))
		if err != nil {
			return nil // no state directory: no drill ids to offer
		}
		ids, _ := drill.LocalRecords{StateDir: state}.List(ctx)
		// Newest first, as 'history' lists them: ids start with the time.
		slices.Reverse(ids)
		out = ids
	}
	return out
}
