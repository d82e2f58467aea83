package drill

import (
	"fmt"
	"os"
	"testing"
)

// TestMain turns the EC2 instance metadata service off for the package's
// tests: an S3 client built without credentials (the SDK's default chain)
// would otherwise ask it, over the network, when a request is sent. A
// test that needs credentials names them (objectstore.Credentials).
func TestMain(m *testing.M) {
	if err := os.Setenv("AWS_EC2_METADATA_DISABLED", "true"); err != nil {
		fmt.Fprintln(os.Stderr, "turn the EC2 instance metadata service off:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
