// Package lease lets one drill at a time use a scratch cluster: the drill
// holds a coordination.k8s.io/v1 Lease there, renews it while it runs and
// releases it at the end; a second drill waits for it (a bounded time) or
// is refused, told who holds it. A drill whose process died stops
// renewing, and its Lease expires on its own.
//
// It is a small client of the Lease API rather than client-go's
// leaderelection: a drill takes over a Lease whose renewTime plus
// leaseDurationSeconds is in the past at once (leaderelection first
// watches it for a whole lease duration), waits with a deadline, and
// writes who it is (scenario, host, pid, since) in the Lease's
// annotations for the drill it refuses to name.
package lease
