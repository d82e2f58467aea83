package drill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/lease"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// FindingScratchInUse is the finding of a drill that did not run because
// another drill held the scratch cluster's Lease.
const FindingScratchInUse = "scratch.in-use"

// leaseRef is where the drills of sc take turns: the Lease
// lease.DefaultName in Velero's namespace of the target. Velero's
// namespace, not kube-system: every drill of a cluster restores through
// its one Velero, the drill's Role already lives there (so RBAC narrows
// the Lease by name inside a namespace the drill writes to anyway), and
// nothing is granted in kube-system. Two Velero installs in one cluster
// would not serialise each other's drills.
func leaseRef(sc *scenarios.Scenario) (namespace, name string) {
	return sc.Spec.Backups.VeleroNamespace, lease.DefaultName
}

// lockWait is how long the drill waits for the Lease: the option when
// set, else the scenario's spec.target.lockWait.
func lockWait(sc *scenarios.Scenario, opt *time.Duration) time.Duration {
	if opt != nil {
		return *opt
	}
	return time.Duration(sc.Spec.Target.LockWait)
}

// takeLease takes the scratch cluster's Lease for drill id, after the
// scratch guard passed and before the drill creates anything there. It
// returns a *lease.HeldError when another drill holds it past the wait.
func takeLease(ctx context.Context, sc *scenarios.Scenario, target *kube.Clients, id string, opts RestoreOptions) (*lease.Held, error) {
	ns, name := leaseRef(sc)
	host, _ := os.Hostname()
	l := &lease.Lock{Leases: target.Kube.CoordinationV1(), Namespace: ns, Name: name, Progress: opts.Progress, Log: opts.Log,
		Holder: lease.Holder{DrillID: id, Scenario: sc.Metadata.Name, Host: host, PID: os.Getpid()}}
	h, err := l.Acquire(ctx, lockWait(sc, opts.LockWait))
	var held *lease.HeldError
	if err != nil && !errors.As(err, &held) {
		return nil, fmt.Errorf("one drill at a time: %w", err)
	}
	return h, err
}

// scratchInUse is the finding of a drill refused by the Lease.
func scratchInUse(err error) (finding.Finding, bool) {
	var held *lease.HeldError
	if !errors.As(err, &held) {
		return finding.Finding{}, false
	}
	h := held.Holder
	return finding.Warn(FindingScratchInUse, "Lease "+held.Lease+" in the target", held.Error()).
		With("no other drill holds the scratch cluster", "held by drill "+h.DrillID,
			fmt.Sprintf("wait for drill %s (scenario %s) to end, or let this drill wait for it with spec.target.lockWait or --lock-wait; "+
				"a drill that died frees the Lease %s after its last renewal (%s)",
				h.DrillID, h.Scenario, FormatSeconds(lease.DefaultDuration.Seconds()), held.RenewTime.UTC().Format(time.RFC3339))), true
}
