package objectstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firedrill-dev/firedrill/internal/envname"
	"github.com/firedrill-dev/firedrill/internal/safefile"
	redact "github.com/firedrill-dev/firedrill/internal/secret" // the test files use the name secret
)

// Config says how to reach one S3 endpoint.
type Config struct {
	// Endpoint is the endpoint URL, http or https; empty means AWS.
	Endpoint string
	// Region defaults to "us-east-1".
	Region string
	// PathStyle puts the bucket in the path rather than the host name, as
	// most S3-compatible servers want.
	PathStyle bool
	// CAFile is an optional PEM bundle trusted for the endpoint, in
	// addition to the system's roots.
	CAFile string
	// Credentials references the credentials; nil means the AWS SDK's
	// default chain.
	Credentials *Credentials
	// Getenv reads the variables Credentials names; nil means os.Getenv.
	Getenv func(string) string
	// CredentialsHint is how to give credentials, for a request that
	// fails for want of them (ErrNoCredentials): the caller knows its own
	// variables and flags. Returned by the error's Hint method.
	CredentialsHint string

	// Timeout bounds each attempt until the response headers arrive and
	// each read of a response body; default 30s.
	Timeout time.Duration
	// OpTimeout bounds each operation, retries included (transfers of
	// object content excepted, which only Timeout bounds); default 2m.
	OpTimeout time.Duration
	// MaxAttempts is how often a request is tried on throttling, 5xx and
	// network errors; default 5.
	MaxAttempts int
	// MaxBackoff caps the delay between attempts; default 5s.
	MaxBackoff time.Duration
	// MaxConns is the number of idle connections kept to the endpoint;
	// set it to the concurrency of the caller; default 64.
	MaxConns int
	// WriteGuard, when set, is asked before every write (objects,
	// deletes, retention, bucket settings); a write it refuses is never
	// sent and fails with ErrWriteRefused.
	WriteGuard *WriteGuard
}

// Credentials references S3 credentials; it never holds them. Either
// AccessKeyIDEnv and SecretAccessKeyEnv (optionally SessionTokenEnv), or
// Profile and/or File.
type Credentials struct {
	AccessKeyIDEnv     string
	SecretAccessKeyEnv string
	SessionTokenEnv    string
	// Profile of the shared config and credentials files; default
	// "default" when File is set.
	Profile string
	// File is a shared credentials file; empty means the SDK's default.
	File string
}

// S3 is an S3 endpoint reached with aws-sdk-go-v2. Its methods are safe
// for concurrent use.
type S3 struct {
	client   *s3.Client
	endpoint string
	// configured is the endpoint as configured, empty for AWS: what the
	// write guard compares.
	configured string
	guard      *WriteGuard
	opTimeout  time.Duration
	// sdkListDecoding turns decodeListPage and decodeVersionsPage off, for tests.
	sdkListDecoding bool
	// direct, when set, serves ObjectRetention without the SDK's stack
	// (see retention_direct.go).
	direct *direct
}

func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = 2 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 64
	}
	return c
}

// New returns an S3 client for cfg. It resolves the credentials now, so a
// missing variable, profile or file is reported here, naming the
// reference, never the secret. New makes no request.
func New(ctx context.Context, cfg Config) (*S3, error) {
	cfg = cfg.withDefaults()
	where := cfg.Endpoint
	if where == "" {
		where = "AWS S3"
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// secret.URL: a URL that does not parse may hold a password.
			return nil, fmt.Errorf("S3 endpoint %q: want an http or https URL", redact.URL(cfg.Endpoint))
		}
		if u.User != nil {
			return nil, errors.New("S3 endpoint: credentials in the URL are not accepted; use a credentials reference")
		}
	}

	httpClient, err := newHTTPClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("S3 endpoint %s: %w", where, err)
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		config.WithHTTPClient(httpClient),
		config.WithLogger(sdkLogger{}),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = cfg.MaxAttempts
				o.MaxBackoff = cfg.MaxBackoff
				// The default token bucket gives up after a burst of
				// failures shared by every request; a comparison runs
				// hundreds of requests at once and each must get its
				// own attempts on throttling.
				o.RateLimiter = ratelimit.None
			})
		}),
		// Checksums only where an operation needs one; writes set their
		// algorithm explicitly (MinIO stores none otherwise).
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	credOpts, err := credentialOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("credentials for S3 endpoint %s: %w", where, err)
	}
	opts = append(opts, credOpts...)
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if c := cfg.Credentials; c != nil && c.AccessKeyIDEnv == "" {
			return nil, fmt.Errorf("credentials for S3 endpoint %s from profile %q%s: %w", where, profileName(c), inFile(c), err)
		}
		return nil, fmt.Errorf("credentials for S3 endpoint %s: %w", where, err)
	}
	if cfg.Credentials != nil && cfg.Credentials.AccessKeyIDEnv == "" {
		// A profile that names no usable credentials fails here rather
		// than at the first request, with the profile in the message.
		if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
			return nil, fmt.Errorf("credentials for S3 endpoint %s from profile %q%s: %w", where, profileName(cfg.Credentials), inFile(cfg.Credentials), err)
		}
	}
	awsCfg.Credentials = markedCredentials{CredentialsProvider: awsCfg.Credentials, hint: cfg.CredentialsHint}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	return &S3{client: client, endpoint: where, configured: cfg.Endpoint, guard: cfg.WriteGuard, opTimeout: cfg.OpTimeout,
		direct: newDirect(cfg, httpClient, awsCfg.Credentials)}, nil
}

// Endpoint is the endpoint URL, or "AWS S3".
func (s *S3) Endpoint() string { return s.endpoint }

func profileName(c *Credentials) string {
	if c.Profile != "" {
		return c.Profile
	}
	return "default"
}

func inFile(c *Credentials) string {
	if c.File == "" {
		return ""
	}
	return " in " + c.File
}

func credentialOptions(cfg Config) ([]func(*config.LoadOptions) error, error) {
	c := cfg.Credentials
	switch {
	case c == nil:
		return nil, nil
	case c.AccessKeyIDEnv != "" || c.SecretAccessKeyEnv != "":
		if c.AccessKeyIDEnv == "" || c.SecretAccessKeyEnv == "" {
			return nil, errors.New("name both the access key ID and the secret access key variables")
		}
		id, secret := cfg.Getenv(c.AccessKeyIDEnv), cfg.Getenv(c.SecretAccessKeyEnv)
		if id == "" {
			return nil, fmt.Errorf("environment variable %s (access key ID) is empty or not set", envname.Display(c.AccessKeyIDEnv))
		}
		if secret == "" {
			return nil, fmt.Errorf("environment variable %s (secret access key) is empty or not set", envname.Display(c.SecretAccessKeyEnv))
		}
		var token string
		if c.SessionTokenEnv != "" {
			if token = cfg.Getenv(c.SessionTokenEnv); token == "" {
				return nil, fmt.Errorf("environment variable %s (session token) is empty or not set", envname.Display(c.SessionTokenEnv))
			}
		}
		return []func(*config.LoadOptions) error{
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, token)),
		}, nil
	default:
		opts := []func(*config.LoadOptions) error{
			config.WithSharedConfigProfile(profileName(c)),
			// A profile without credentials would fall back to the EC2
			// instance metadata service (the SDK's last resort, which
			// also has the region and the role of whatever host runs
			// the drill): the credentials named are the ones used, or
			// the reference is an error.
			config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		}
		if c.File != "" {
			// The SDK reads the file itself, whole: a device or FIFO
			// must not get that far.
			if err := safefile.Check(c.File, safefile.Credentials); err != nil {
				return nil, err
			}
			opts = append(opts, config.WithSharedCredentialsFiles([]string{c.File}))
		}
		return opts, nil
	}
}

func newHTTPClient(cfg Config) (*awshttp.BuildableClient, error) {
	var roots *x509.CertPool
	if cfg.CAFile != "" {
		pem, err := safefile.ReadFile(cfg.CAFile, safefile.CAFile)
		if err != nil {
			return nil, err
		}
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", cfg.CAFile)
		}
	}
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = min(cfg.Timeout, 10*time.Second) }).
		WithReadTimeout(cfg.Timeout).
		WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConns = 2 * cfg.MaxConns
			tr.MaxIdleConnsPerHost = cfg.MaxConns
			tr.ResponseHeaderTimeout = cfg.Timeout
			tr.TLSHandshakeTimeout = min(cfg.Timeout, 10*time.Second)
			if roots != nil {
				if tr.TLSClientConfig == nil {
					tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
				}
				tr.TLSClientConfig.RootCAs = roots
			}
		}), nil
}
