// Package e2e holds firedrill's end-to-end tests. They run against the real
// lab (see e2e/lab: MinIO, Versity, kube-apiservers, Velero on 127.0.0.1)
// and are built only with the e2e tag:
//
//	make test                                  # starts the lab, runs everything
//	eval "$(make -s lab-env)"; go test -tags e2e ./e2e/...
//
// With FIREDRILL_E2E=require (set by make test) a missing lab fails the run
// instead of skipping it, so CI cannot pass without having tested anything.
package e2e
