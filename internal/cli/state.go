package cli

import (
	"path/filepath"

	"github.com/urfave/cli/v2"
)

// stateDirFlag is where drill records live. The default follows the XDG
// base directory convention for user data.
func stateDirFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name:    "state-dir",
		Usage:   "keep drill records in `DIR` (default $FIREDRILL_STATE_DIR, else $XDG_DATA_HOME/firedrill, else ~/.local/share/firedrill)",
	}
}

func (a *app) stateDir(c *cli.Context) string {
	if d := c.String("state-dir"); d != "" {
		return a.abs(d)
	}
	if d := a.env.getenv("FIREDRILL_STATE_DIR"); d != "" {
		return a.abs(d)
	}
	if d := a.env.getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(a.abs(d), "firedrill")
	}
	return filepath.Join(a.env.HomeDir, ".local", "share", "firedrill")
}

func (a *app) abs(p string) string {
	if filepath.IsAbs(p) || a.env.WorkDir == "" {
		return p
	}
	return filepath.Join(a.env.WorkDir, p)
}
