package backup

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// TestWindowFindings_LockCounts: the window.unlocked summary reads right
// for every count: none, one or some of one, several or all backups, the
// backup before the window's start, a sample.
func TestWindowFindings_LockCounts(t *testing.T) {
	bs := daily(8) // the 3rd to the 10th
	seed := int64(42)
	// window holds bs[from:]; short backups are the first ones checked;
	// anchor adds the backup before the window's start.
	window := func(from, short int, anchor bool, sample int) *Window {
		w := &Window{Backups: bs[from:], Lock: LockCoverage{Checked: "all"}}
		if anchor {
			w.Oldest = &bs[from-1]
		} else {
			w.Oldest = &bs[from]
		}
		for _, b := range w.lockTargets()[:short] {
			w.Lock.Short = append(w.Lock.Short, LockShort{Backup: b.Name})
		}
		if sample > 0 {
			w.Lock.Checked, w.Lock.Sample, w.Lock.Seed = "sample", sample, &seed
		}
		return w
	}
	tests := []struct {
		name string
		w    *Window
		want string
		pass bool
	}{
		{"all of several", window(0, 8, false, 0), "none of the 8 backups in the window is locked until it expires", false},
		{"some of several", window(0, 3, false, 0), "3 of the 8 backups in the window are not locked until they expire", false},
		{"one of several", window(0, 1, false, 0), "1 of the 8 backups in the window is not locked until it expires", false},
		{"none of several", window(0, 0, false, 0), "every object version of each of the 8 backups in the window is locked until at least its backup's expiration", true},
		{"the only one", window(7, 1, false, 0), "the backup in the window is not locked until it expires", false},
		{"the only one locked", window(7, 0, false, 0), "every object version of the backup in the window is locked until at least its backup's expiration", true},
		{"one and the one before", window(7, 2, true, 0), "none of the 2 backups (the one in the window and the one before its start that it reaches back to) is locked until it expires", false},
		{"one of one and the one before", window(7, 1, true, 0), "1 of the 2 backups (the one in the window and the one before its start that it reaches back to) is not locked until it expires", false},
		{"several and the one before", window(5, 2, true, 0), "2 of the 4 backups (the 3 in the window and the one before its start that it reaches back to) are not locked until they expire", false},
		{"several and the one before, locked", window(5, 0, true, 0), "every object version of each of the 4 backups (the 3 in the window and the one before its start that it reaches back to) is locked until at least its backup's expiration", true},
		{"only the one before", window(8, 1, true, 0), "the backup before the window's start that it reaches back to (the window holds none) is not locked until it expires", false},
		{"only the one before, locked", window(8, 0, true, 0), "every object version of the backup before the window's start that it reaches back to (the window holds none) is locked until at least its backup's expiration", true},
		{"all of a sample", window(0, 3, false, 3), "none of the 3 drawn (seed 42) from the 8 backups in the window is locked until it expires", false},
		{"one of a sample", window(0, 1, false, 3), "1 of the 3 drawn (seed 42) from the 8 backups in the window is not locked until it expires", false},
		{"a sample of one", window(0, 1, false, 1), "the one drawn (seed 42) from the 8 backups in the window is not locked until it expires", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := windowFindings(tt.w, "s3://b at x", objectstore.LockConfig{}, "")
			if tt.pass {
				assert.Equal(t, []string{tt.want}, messages(fs, IDWindowUnlocked, finding.StatusPass))
				return
			}
			got := messages(fs, IDWindowUnlocked, finding.StatusFail)
			if assert.NotEmpty(t, got) {
				assert.Equal(t, tt.want, got[len(got)-1])
			}
		})
	}
}

// TestWindowFindings_LockMore: past maxWindowFindings backups, one
// finding counts the rest, in the singular for one.
func TestWindowFindings_LockMore(t *testing.T) {
	for _, more := range []int{1, 4} {
		w := &Window{Lock: LockCoverage{Checked: "all"}}
		for i := range maxWindowFindings + more {
			b := completed(fmt.Sprintf("b%d", i), wnow)
			w.Backups = append(w.Backups, b)
			w.Lock.Short = append(w.Lock.Short, LockShort{Backup: b.Name})
		}
		w.Oldest = &w.Backups[0]
		want := map[int]string{1: "and 1 more backup not locked until it expires", 4: "and 4 more backups not locked until they expire"}[more]
		assert.Contains(t, messages(windowFindings(w, "s3://b at x", objectstore.LockConfig{}, ""), IDWindowUnlocked, finding.StatusFail), want)
	}
}
