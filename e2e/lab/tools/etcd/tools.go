//go:build tools

// Package tools pins etcd for the lab. `go install go.etcd.io/etcd/server/v3`
// is refused (the module has replace directives), so a module requires it.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
