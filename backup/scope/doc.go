// Package scope answers the application team's question "which of our
// PersistentVolumeClaims are in the backup?" for one Velero backup: for
// every PersistentVolumeClaim of the drill's namespaces in the source
// cluster, whether its data is in the backup (file-system backup, CSI or
// native snapshot, data mover) or, when it is not, why not (no opt-in,
// opted out, namespace or resource excluded, not mounted by a pod,
// created after the backup, the volume's backup failed). It also names
// the namespaces of the source that hold PersistentVolumeClaims but that no
// Velero Schedule covers, and sets a backup's item counts, kind by kind,
// against what the drill's Restores created.
//
// The source cluster is only read (get and list): the package holds no
// code that writes to it. The rules are Velero's (v1.18), each cited where
// it is applied; Velero objects are its own Go types, converted at the
// dynamic client's edge.
package scope
