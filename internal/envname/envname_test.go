package envname_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill-dev/firedrill/internal/envname"
)

func TestLooksLikeSecret(t *testing.T) {
	names := []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"MINIO_ROOT_USER", "COPY_SECRET_ACCESS_KEY", "FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY",
		"WASABI_EU_CENTRAL_1_SECRET", "aws_secret_access_key", "S3_KEY2", "OffsiteSecretKey",
		"1BAD-NAME", // not a name, but not a secret either: said so without quoting it
		"AwsS3SecretKeyProd2", "OffsiteBackupBucketSecretAccessKeyValue1", "offsiteBackupSecretAccessKey",
	}
	for _, n := range names {
		assert.False(t, envname.LooksLikeSecret(n), "%s is a name", n)
		assert.Equal(t, n, envname.Display(n))
	}
	secrets := []string{
		"wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1", // the case of issue 15 (secret-as-envname.yaml)
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", // AWS's documented example secret key
		"AKIAIOSFODNN7EXAMPLE",                     // AWS's documented example access key ID
		"minio-secret-123",                         // not a name at all
		"Xk29fLq8Zt4Wm1Rb",                         // 16 random base62 characters
		"k3j5h7g9f2d4s6a8q1w3e5r7",                 // lowercase and digits, high entropy
	}
	for _, s := range secrets {
		assert.True(t, envname.LooksLikeSecret(s), "%s looks like a secret", s)
		assert.NotContains(t, envname.Display(s), s)
	}
}
