// Package evidence builds and verifies evidence bundles: a deterministic
// .tar.gz of a drill's record with a manifest (SHA-256 and size of every
// file) and an Ed25519 signature over the manifest, so an auditor can
// prove that nothing in it was changed, added or removed since the drill.
//
// A bundle holds, under one top directory named after the drill:
//
//	manifest.json   schema, drill, times, the signing key's fingerprint, every file's hash and size
//	manifest.sig    the raw 64-byte Ed25519 signature of manifest.json
//	index.json      what each file proves and which controls the drill supports
//	attestation.dsse.json
//	                an in-toto Statement v1 in a DSSE envelope, signed with the same
//	                key: subjects every other file by SHA-256, predicate the drill's
//	                result (DrillResult, https://firedrill.dev/drill-result/v1)
//	...             the drill's files (report, scenario, protection, restore, ...)
//
// The signature can also be checked without firedrill:
//
//	openssl pkeyutl -verify -pubin -inkey firedrill-evidence.pub -rawin \
//	    -in manifest.json -sigfile manifest.sig
//
// and every hash with sha256sum; the envelope with in-toto and Sigstore
// tools (cosign verify-blob-attestation, see the README's Auditors
// section). Bundles made before the envelope verify without it. Verify reads a bundle as untrusted input:
// it is intact only when unpacking it with gzip and tar writes exactly the
// manifest's files, as regular files with canonical modes, under the
// drill's directory, and its memory is bounded whatever the bundle holds.
// The package knows nothing of drills: the drill package chooses the files
// and the proofs.
package evidence
