package version

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name    string
		ldflags string
		commit  string
		bi      *debug.BuildInfo
		want    Info
	}{
		{
			name:    "ldflags win over the module version",
			ldflags: "v1.2.3",
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-abcdef"}},
			want:    Info{Version: "v1.2.3"},
		},
		{
			name: "module version when built with go install",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}},
			want: Info{Version: "v0.4.0"},
		},
		{
			name: "dev when built in the repository",
			bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.modified", Value: "true"},
			}},
			want: Info{Version: "dev", Commit: "0123abc", Modified: true},
		},
		{
			name: "dev without build info",
			want: Info{Version: "dev"},
		},
		{
			name:    "commit from ldflags, as make build sets it without Go's VCS stamp (-buildvcs=false)",
			ldflags: "v1.2.3-4-g0123abc", commit: "0123abc",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: Info{Version: "v1.2.3-4-g0123abc", Commit: "0123abc"},
		},
		{
			name:    "a dirty tree's commit from ldflags is marked modified",
			ldflags: "v1.2.3-dirty", commit: "0123abc-dirty",
			want: Info{Version: "v1.2.3-dirty", Commit: "0123abc", Modified: true},
		},
		{
			name:   "commit from ldflags wins over Go's VCS stamp",
			commit: "0123abc",
			bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123abcdef0123abcdef"}, {Key: "vcs.modified", Value: "true"},
			}},
			want: Info{Version: "dev", Commit: "0123abc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuildInfo(tt.ldflags, tt.commit, tt.bi)
			assert.Equal(t, tt.want.Version, got.Version)
			assert.Equal(t, tt.want.Commit, got.Commit)
			assert.Equal(t, tt.want.Modified, got.Modified)
			assert.NotEmpty(t, got.GoVersion)
			assert.Contains(t, got.Platform, "/")
		})
	}
}
