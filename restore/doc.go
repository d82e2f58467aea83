// Package restore restores a Velero backup into a scratch cluster the way a
// hardened platform needs it: NetworkPolicies (with their namespaces) first,
// then everything else, because clusters that refuse workloads no
// NetworkPolicy selects reject Velero's default order. It chooses the
// recovery point, restores from an off-site copy when the primary storage
// is lost, watches each Velero Restore to its end with progress, proves the
// order in which NetworkPolicies and workloads appeared, runs the checks
// after the restore and removes what it created.
//
// The package has its own Spec so it depends on no scenario format; drill
// maps a scenario to it.
package restore
