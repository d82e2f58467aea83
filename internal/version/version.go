package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is set at build time:
//
//	go build -ldflags "-X github.com/firedrill-dev/firedrill/internal/version.Version=v1.2.3"
//
// When it is empty, Get falls back to the module version Go recorded in the
// binary, then to "dev".
var Version = ""

// Commit is the source commit, set at build time as Version is: git's
// short hash, with "-dirty" appended when tracked files differ from it
// (`make build` sets both). When empty, Get falls back to the commit Go
// recorded in the binary (vcs.revision and vcs.modified, absent when the
// build ran with -buildvcs=false or outside a git checkout).
var Commit = ""

// dirtySuffix marks a Commit built from a tree with changes, as
// `git describe --dirty` marks it.
const dirtySuffix = "-dirty"

// Info describes the running build.
type Info struct {
	Version string `json:"version"`
	// Commit is the source commit; Modified says the tree it was built
	// from had changes to tracked files.
	Commit    string `json:"commit,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the running build's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(Version, Commit, bi)
}

func fromBuildInfo(ldflagsVersion, ldflagsCommit string, bi *debug.BuildInfo) Info {
	info := Info{
		Version:   ldflagsVersion,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if ldflagsCommit != "" {
		info.Commit, info.Modified = strings.TrimSuffix(ldflagsCommit, dirtySuffix), strings.HasSuffix(ldflagsCommit, dirtySuffix)
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}
