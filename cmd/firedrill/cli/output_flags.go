package cli

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// exportFormat reads evidence export's -o, the format of what it prints,
// as every command's -o. Until issue 19 its -o named the bundle's file and
// --output-format the format: an -o that looks like a file (a path, a name
// with a dot, or - for stdout) and --output-format are usage errors that
// say what changed, so a script that wrote the bundle with -o fails loudly
// instead of writing a file named "json" or reading a format as a path.
func exportFormat(c *cli.Context) (string, error) {
	if c.IsSet("output-format") {
		return "", usageErrorf("write -o "+c.String("output-format")+"; "+helpHint(c), "--output-format is now -o (--output)")
	}
	if o := c.String("output"); !slices.Contains(textOutput, o) && (o == "-" || strings.ContainsAny(o, "./")) {
		return "", usageErrorf("-o is the format ("+strings.Join(textOutput, ", ")+"); the bundle's file is -f (--file): "+
			"'firedrill evidence export "+c.Args().First()+" -f "+o+"'", "invalid -o %q: -o no longer names the bundle's file", o)
	}
	return textOutput.format(c)
}

// listOutput is scenarios list's -o: its table cuts summaries short.
var listOutput = output{formatTable, formatWide, formatJSON, formatYAML}
