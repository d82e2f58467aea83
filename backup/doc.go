// Package backup proves that Velero backups are protected, the "protection"
// step of a drill and the library behind `firedrill verify`: the bucket's
// object lock (versioning, mode, default retention against the scenario's
// requirement and the backup's expiration), the retention of every object
// version of the chosen backup and of the file-system backup repositories
// its volume data is in (<prefix>/kopia/<namespace>/, read from its
// PodVolumeBackups and included namespaces), a tamper canary that proves a locked
// version can be neither deleted nor have its retention shortened, and
// off-site copies that hold the same objects, compared by a streaming merge
// of two sorted listings so memory stays flat whatever the object count.
//
// Every check yields a finding.Finding; CheckProtection returns them with
// per-copy comparison counts, ready for JSON. The package declares the
// object-store interfaces it needs; objectstore.S3 implements them, and
// memstore fakes them in unit tests.
package backup
