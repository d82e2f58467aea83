// Package ociimage writes the firedrill container images as OCI image
// layouts in a tar file, without Docker and without a registry, on an
// empty base, run as a non-root user.
//
// Scheduled drills run firedrill in a pod, so a team needs an image; the
// machines that build firedrill have no container engine and reach no
// registry. An OCI layout is what registries and their tools take as it
// is: 'skopeo copy oci-archive:FILE docker://REF', 'crane push' of the
// unpacked directory, or 'ctr images import FILE' straight into a node's
// containerd. The same inputs always give the same bytes, so the image
// digest can be reproduced and compared.
//
// Two images come out of it. The firedrill image is one layer holding the
// static binary. The runner image puts a layer of tools under that same
// layer: a static shell (busybox) and its applets in /bin, static kubectl
// and velero in /usr/local/bin and the time zone database, because runbook
// steps and command checks run 'sh -c' and the programs they name, and a
// scheduled drill should do what a drill by hand does. The firedrill layer
// is byte for byte the same in both, so a registry stores it once.
//
// The layout is written with go-containerregistry's v1 types (manifest,
// config, descriptors) and the standard library's tar and gzip.
package ociimage
