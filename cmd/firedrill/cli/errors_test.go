package cli

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPrintError_FullDiskSaysWhatToDo: a write that failed for a full
// disk (ENOSPC, however deep it is wrapped) gets a hint naming the disk
// and --state-dir.
func TestPrintError_FullDiskSaysWhatToDo(t *testing.T) {
	err := fmt.Errorf("write /state/drills/fd-1/report.json: %w",
		&os.PathError{Op: "write", Path: "/state/drills/fd-1/.report.json.1wc8tk.tmp", Err: syscall.ENOSPC})
	var out strings.Builder
	printError(&out, err, ExitError)
	assert.Equal(t, "Error: write /state/drills/fd-1/report.json: write /state/drills/fd-1/.report.json.1wc8tk.tmp: no space left on device\n"+
		"Hint: the disk of the path above is full: free space on it, or point --state-dir ($FIREDRILL_STATE_DIR) at another disk; the record keeps the last version written whole\n",
		out.String())
}
