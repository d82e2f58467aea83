package drill_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/drill/recordtest"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

func TestRecords_LocalConformance(t *testing.T) {
	recordtest.Suite{New: func(t *testing.T) drill.Records {
		return drill.LocalRecords{StateDir: t.TempDir()}
	}}.Run(t)
}

// TestRecords_S3Conformance runs the suite on memstore with pages of two
// objects, so every listing follows continuation tokens.
func TestRecords_S3Conformance(t *testing.T) {
	recordtest.Suite{New: func(t *testing.T) drill.Records {
		st := memstore.New()
		st.PageSize = 2
		require.NoError(t, st.CreateBucket(context.Background(), "team-drills", false))
		return &drill.S3Records{Store: st, Bucket: "team-drills", Prefix: "team/shop"}
	}}.Run(t)
}

// TestRecords_S3ConformanceAtTheBucketRoot: an empty prefix keeps drills
// under drills/ at the bucket's root.
func TestRecords_S3ConformanceAtTheBucketRoot(t *testing.T) {
	recordtest.Suite{New: func(t *testing.T) drill.Records {
		st := memstore.New()
		require.NoError(t, st.CreateBucket(context.Background(), "team-drills", false))
		return &drill.S3Records{Store: st, Bucket: "team-drills"}
	}}.Run(t)
}

// countingRecords counts the listings of a drill's files.
type countingRecords struct {
	drill.Records
	files int
}

func (c *countingRecords) Files(ctx context.Context, id string) ([]string, error) {
	c.files++
	return c.Records.Files(ctx, id)
}

// TestReportHTMLURL_AsTheRecordSays: a record with links names its
// report without a listing; a running or dead drill without links has
// none; a record without links of a drill that ended (written before
// links) has the report its folder holds.
func TestReportHTMLURL_AsTheRecordSays(t *testing.T) {
	ctx := context.Background()
	local := drill.LocalRecords{StateDir: t.TempDir()}
	rs := &countingRecords{Records: local}
	write := func(id string, result drill.Result, links []drill.Link, files ...string) *drill.Report {
		r := &drill.Report{DrillID: id, Scenario: "s", Result: result, Links: links}
		b, err := json.Marshal(r)
		require.NoError(t, err)
		require.NoError(t, local.WriteFile(ctx, id, drill.ReportFile, b))
		for _, f := range files {
			require.NoError(t, local.WriteFile(ctx, id, f, []byte("x")))
		}
		return r
	}
	withLinks := []drill.Link{{Rel: "report-html", Href: drill.ReportHTMLFile}}
	for name, tc := range map[string]struct {
		r         *drill.Report
		want      bool
		listFiles int
	}{
		"links name it":            {write("fd-a", drill.ResultPass, withLinks, drill.ReportHTMLFile), true, 0},
		"running, no links":        {write("fd-b", drill.ResultRunning, nil, drill.ReportHTMLFile), false, 0},
		"died before report":       {write("fd-c", drill.ResultDied, nil), false, 0},
		"before links, with html":  {write("fd-d", drill.ResultFail, nil, drill.ReportHTMLFile), true, 1},
		"before links, no html":    {write("fd-e", drill.ResultPass, nil), false, 1},
		"links without the report": {write("fd-f", drill.ResultPass, []drill.Link{{Rel: "scenario", Href: "scenario.yaml"}}), false, 0},
	} {
		t.Run(name, func(t *testing.T) {
			rs.files = 0
			got, err := drill.ReportHTMLURL(ctx, rs, tc.r)
			require.NoError(t, err)
			if tc.want {
				assert.Equal(t, local.URL(tc.r.DrillID, drill.ReportHTMLFile), got)
			} else {
				assert.Empty(t, got)
			}
			assert.Equal(t, tc.listFiles, rs.files, "listings")
		})
	}
}
