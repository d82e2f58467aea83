package scenarios

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServicePort_Scalar(t *testing.T) {
	tests := []struct {
		value, tag string
		want       ServicePort
		wantErr    string
	}{
		{"80", "!!int", ServicePort{Number: 80}, ""},
		{"8080", "!!str", ServicePort{Number: 8080}, ""},
		{"http", "!!str", ServicePort{Name: "http"}, ""},
		{"grpc-web", "!!str", ServicePort{Name: "grpc-web"}, ""},
		{"0", "!!int", ServicePort{}, "0 is not a port number"},
		{"65536", "!!int", ServicePort{}, "65536 is not a port number"},
		{"HTTP", "!!str", ServicePort{}, `"HTTP" is not a port number`},
		{"a--b", "!!str", ServicePort{}, `"a--b" is not a port number`},
		{"-http", "!!str", ServicePort{}, `"-http" is not a port number`},
		{"very-long-port-name", "!!str", ServicePort{}, "at most 15"},
		{"8.5", "!!float", ServicePort{}, "8.5 is not a port number"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			var p ServicePort
			err := p.unmarshalScalar(tt.value, tt.tag)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, p)
			assert.Equal(t, tt.value, p.String())
		})
	}
}

// TestServicePort_Marshal: `scenarios show` writes a port number as a
// number and a name as a string, in YAML and JSON.
func TestServicePort_Marshal(t *testing.T) {
	sc, err := LoadFile(context.Background(), testEnv(), "testdata/valid-full.yaml")
	require.NoError(t, err)
	y, err := MarshalYAML(sc)
	require.NoError(t, err)
	assert.Contains(t, string(y), "\n          port: 80\n")
	assert.Contains(t, string(y), "\n          port: http\n")
	assert.Contains(t, string(y), "\n        path: /\n", "the default path is shown")
	j, err := MarshalJSON(sc)
	require.NoError(t, err)
	assert.Contains(t, string(j), `"port": 80`)
	assert.Contains(t, string(j), `"port": "http"`)
	b, err := json.Marshal(ServicePort{Number: 443})
	require.NoError(t, err)
	assert.Equal(t, "443", string(b))
}
