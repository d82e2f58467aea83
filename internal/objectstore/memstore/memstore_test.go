package memstore_test

import (
	"testing"

	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/storetest"
)

func TestMemstore_Conformance(t *testing.T) {
	storetest.Suite{NewStore: func(t *testing.T) storetest.Store { return memstore.New() }}.Run(t)
}

func TestMemstore_Conformance_VersityBehaviour(t *testing.T) {
	storetest.Suite{NewStore: func(t *testing.T) storetest.Store {
		s := memstore.New()
		s.NoDefaultRetentionStamp, s.RefuseStatus, s.RefuseCode = true, 403, "AccessDenied"
		return s
	}}.Run(t)
}
