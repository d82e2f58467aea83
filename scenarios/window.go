package scenarios

import "errors"

// ErrNotRandomPick is returned by SetWindowSeed when the scenario does not
// draw its recovery point at random (spec.backups.window.pick: random).
var ErrNotRandomPick = errors.New("the scenario does not pick its backup at random (spec.backups.window.pick: random)")

// SetWindowSeed makes the scenario's random pick use seed, as if the file
// said spec.backups.window.seed: seed: a drill replays the pick of an
// earlier one (its report's backup.chosen.seed). It returns
// ErrNotRandomPick, and changes nothing, when the scenario has no random
// window pick.
func (sc *Scenario) SetWindowSeed(seed int64) error {
	w := sc.Spec.Backups.Window
	if w == nil || w.Pick != PickRandom {
		return ErrNotRandomPick
	}
	w.Seed = &seed
	return nil
}
