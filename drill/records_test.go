package drill_test

import (
	"context"
	"testing"

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
