// Package objectstore is firedrill's access to S3-compatible object storage:
// the handful of S3 operations the protection checks need (bucket
// versioning and object lock, listings, retention, the canary's writes),
// implemented with aws-sdk-go-v2 in S3, with the answers of different
// servers (MinIO, Versity, AWS) turned into one set of types and sentinel
// errors.
//
// Consumers declare the small interface they need (see package backup);
// memstore is the in-memory fake for their unit tests and storetest the
// conformance suite every implementation passes.
package objectstore
