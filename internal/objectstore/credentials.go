package objectstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// markedCredentials is a credentials provider whose failures are
// *credentialsError: a request that fails for want of credentials is then
// ErrNoCredentials, with the caller's hint, however the SDK wraps it.
type markedCredentials struct {
	aws.CredentialsProvider
	hint string
}

var _ aws.CredentialProviderSource = markedCredentials{}

// Retrieve implements aws.CredentialsProvider. A cancelled or expired
// context is not a want of credentials: its error is returned as is.
func (p markedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		return c, &credentialsError{err: err, hint: p.hint}
	}
	return c, err
}

// ProviderSources implements aws.CredentialProviderSource (the SDK's
// user agent names where the credentials came from) for the provider it
// wraps.
func (p markedCredentials) ProviderSources() []aws.CredentialSource {
	if s, ok := p.CredentialsProvider.(aws.CredentialProviderSource); ok {
		return s.ProviderSources()
	}
	return nil
}

// credentialsError is ErrNoCredentials with the SDK's reason, and how to
// give credentials (Config.CredentialsHint) for the command line to show.
type credentialsError struct {
	err  error
	hint string
}

func (e *credentialsError) Error() string   { return "no credentials: " + e.err.Error() }
func (e *credentialsError) Unwrap() []error { return []error{ErrNoCredentials, e.err} }

// Hint is Config.CredentialsHint; empty when none was given.
func (e *credentialsError) Hint() string { return e.hint }
