// Package memstore is an in-memory S3 for unit tests: buckets with
// versioning and object lock, MinIO's behaviour by default (the bucket's
// default retention is stamped on each new version) or Versity's
// (NoDefaultRetentionStamp), and fault fields a test sets to break exactly
// one thing, as helm's FailingKubeClient does.
//
// Generated buckets (AddGenerated) hold any number of objects without
// storing them, for measuring the memory of a comparison.
package memstore
