package cli

import (
	"context"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"
)

// helpWithoutExitCodes are the commands whose help does not say its exit
// codes yet, and why; an entry is ignored once the help says them.
var helpWithoutExitCodes = map[string]string{}

// TestHelp_EveryCommandNamesItsExitCodes: each command that does something
// (not one that only groups subcommands) says its exit codes in its help,
// usage (2) among them, and an unknown flag exits 2 as the help says.
// validate --help once said 0 and 1 only, while validate --bogus exits 2.
func TestHelp_EveryCommandNamesItsExitCodes(t *testing.T) {
	a := &app{env: Env{Stdout: io.Discard, Stderr: io.Discard}}
	groups := reflect.ValueOf(unknownCommand).Pointer()
	usage := regexp.MustCompile(`(^|[ ,;(])2 usage\b`)
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			if cmd.Name == "help" {
				continue
			}
			p := append(append([]string(nil), path...), cmd.Name)
			walk(p, cmd.Subcommands)
			if cmd.Action == nil || reflect.ValueOf(cmd.Action).Pointer() == groups {
				continue
			}
			t.Run(strings.Join(p, " "), func(t *testing.T) {
				help := run(t, context.Background(), nil, append(p, "--help")...)
				words := strings.Join(strings.Fields(help.stdout), " ")
				if why, ok := helpWithoutExitCodes[strings.Join(p, " ")]; ok && !strings.Contains(words, "Exit codes:") {
					t.Skip(why)
				}
				if assert.Contains(t, words, "Exit codes:", help.stdout) {
					_, codes, _ := strings.Cut(words, "Exit codes:")
					assert.Regexp(t, usage, codes, "exit 2 (usage) is in its help")
				}
				bogus := run(t, context.Background(), nil, append(p, "--bogus")...)
				assert.Equal(t, ExitUsage, bogus.code, bogus.String())
			})
		}
	}
	walk(nil, a.newApp().Commands)
}
