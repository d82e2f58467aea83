// Package kube turns a kubeconfig and context (or the in-cluster service
// account, when firedrill runs as a Job) into client-go clients, and holds
// the scratch-cluster guard: the one check that stands between a drill and
// a production cluster.
package kube
