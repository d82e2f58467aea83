// Package ociimage writes the firedrill container image as an OCI image
// layout in a tar file, without Docker and without a registry: one layer
// holding the static binary, on an empty base, run as a non-root user.
//
// Scheduled drills run firedrill in a pod, so a team needs an image; the
// machines that build firedrill have no container engine and reach no
// registry. An OCI layout is what registries and their tools take as it
// is: 'skopeo copy oci-archive:FILE docker://REF', or 'crane push' of the
// unpacked directory. The same binary and options always give the same
// bytes, so the image digest can be reproduced and compared.
//
// The layout is written with go-containerregistry's v1 types (manifest,
// config, descriptors) and the standard library's tar and gzip.
package ociimage
