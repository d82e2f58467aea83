package cli

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/firedrill-dev/firedrill/restore"
)

// drawRestore sends a Restore's changes to p with a step's line between.
func drawRestore(p *progressLines) {
	p.Restore(restore.RestoreProgress{Label: "1/1 all", Phase: velerov1.RestorePhaseInProgress, ItemsRestored: 1, TotalItems: 3})
	fmt.Fprintf(p, "check shop-ready passed\n")
	p.Restore(restore.RestoreProgress{Label: "1/1 all", Phase: velerov1.RestorePhaseInProgress, ItemsRestored: 2, TotalItems: 3})
	p.Restore(restore.RestoreProgress{Label: "1/1 all", Phase: velerov1.RestorePhaseCompleted, ItemsRestored: 3, TotalItems: 3})
	fmt.Fprintf(p, "[12.0s] verify ...\n")
}

func TestProgressLines_RewrittenOnATerminal(t *testing.T) {
	var out bytes.Buffer
	drawRestore(&progressLines{w: &out, tty: true})
	assert.Equal(t, "\r\033[Krestore 1/1 all: InProgress, 1/3 items restored"+
		"\r\033[Kcheck shop-ready passed\n"+
		"restore 1/1 all: InProgress, 1/3 items restored"+
		"\r\033[Krestore 1/1 all: InProgress, 2/3 items restored"+
		"\r\033[Krestore 1/1 all: Completed, 3/3 items restored\n"+
		"[12.0s] verify ...\n", out.String())
}

func TestProgressLines_PlainLinesElsewhere(t *testing.T) {
	var out bytes.Buffer
	drawRestore(newProgressLines(&out)) // a buffer is no terminal
	assert.Equal(t, "restore 1/1 all: InProgress, 1/3 items restored\n"+
		"check shop-ready passed\n"+
		"restore 1/1 all: InProgress, 2/3 items restored\n"+
		"restore 1/1 all: Completed, 3/3 items restored\n"+
		"[12.0s] verify ...\n", out.String())
}
