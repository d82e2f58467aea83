package scenarios

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// CheckFiles reads the files a drill of the scenario will need, as the
// drill will: each caFile must be a PEM bundle holding at least one
// certificate; each credentials file must exist and hold the profile the
// scenario uses (profile, default "default"); a profile named without a
// file must be in the AWS SDK's own shared files; spec.target.kubeconfig
// and spec.source.kubeconfig, when set, must be regular files. It returns
// one problem per field, with the field's line and the fix, or nil. It
// reads nothing else and contacts nothing. The runbook file is checked
// when the scenario loads.
//
// The profile must be in the credentials file itself because the file is
// all that Velero gets when the drill restores from a copy; an AWS config
// file elsewhere is not consulted. A profile without a file is looked up
// where the AWS SDK for Go v2 looks (config.LoadSharedConfigProfile): the
// credentials file $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials and
// the config file $AWS_CONFIG_FILE or ~/.aws/config, with the environment
// and home directory of the Env the scenario was loaded with. A profile
// with an access key ID but no secret access key, or the reverse, is a
// problem too: the SDK refuses it ("partial credentials"). No value of
// those files is read into a message. Files are read through safefile, so
// a device or FIFO is a problem too, never a hang.
//
// `firedrill validate` reports these problems as warnings (the files may
// exist only where the drill runs); run, verify, restore and plan stop on
// them before touching anything.
func (s *Scenario) CheckFiles() ValidationErrors {
	var errs ValidationErrors
	add := func(path, format string, args ...any) {
		errs = append(errs, s.FieldError(path, format, args...))
	}
	for _, b := range s.buckets() {
		if b.CAFile != "" {
			s.checkCAFile(b.path+".caFile", b.CAFile, add)
		}
		switch c := b.Credentials; {
		case c == nil:
		case c.File != "":
			s.checkCredentialsFile(b.path+".credentials", *c, add)
		case c.Profile != "":
			s.checkSharedProfile(b.path+".credentials.profile", c.Profile, add)
		}
	}
	// Empty means client-go's default rules ($KUBECONFIG, ~/.kube/config,
	// or the pod's service account), which are not files of the scenario.
	if kc := s.Spec.Target.Kubeconfig; kc != "" {
		s.checkKubeconfig("spec.target.kubeconfig", kc, add)
	}
	if kc := s.Spec.Source.Kubeconfig; kc != "" {
		s.checkKubeconfig("spec.source.kubeconfig", kc, add)
	}
	return errs.sorted()
}

// fileEnv is what CheckFiles needs of the Env the scenario was loaded
// with: where the AWS SDK's default shared files are.
type fileEnv struct {
	homeDir string
	getenv  func(string) string
}

func (e fileEnv) env(key string) string {
	if e.getenv == nil {
		return ""
	}
	return e.getenv(key)
}

// sharedFile is one of the AWS SDK's default shared files: path is empty
// when neither its variable nor a home directory says where it is.
type sharedFile struct {
	path, from string
	config     bool
}

// sharedFiles are the AWS SDK's default shared credentials and config
// files (aws-sdk-go-v2/config: DefaultSharedCredentialsFilename,
// DefaultSharedConfigFilename, AWS_SHARED_CREDENTIALS_FILE,
// AWS_CONFIG_FILE), in the order the SDK reads them.
func (e fileEnv) sharedFiles() []sharedFile {
	var files []sharedFile
	for _, f := range []struct {
		variable, name string
		config         bool
	}{{"AWS_SHARED_CREDENTIALS_FILE", "credentials", false}, {"AWS_CONFIG_FILE", "config", true}} {
		sf := sharedFile{config: f.config}
		switch {
		case e.env(f.variable) != "":
			sf.path, sf.from = e.env(f.variable), "$"+f.variable
		case e.homeDir != "":
			sf.path, sf.from = filepath.Join(e.homeDir, ".aws", f.name), "the AWS SDK's default"
		}
		files = append(files, sf)
	}
	return files
}

func (s *Scenario) checkKubeconfig(path, file string, add func(path, format string, args ...any)) {
	shown := s.DisplayPath(file)
	err := safefile.Check(file, safefile.Kubeconfig)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		add(path, "kubeconfig %s does not exist; put the cluster's kubeconfig there, or fix the path (relative paths are relative to the scenario file)", shown)
	default:
		add(path, "%v; point kubeconfig at a kubeconfig file", fileError(err, shown))
	}
}

type namedBucket struct {
	path string
	*Bucket
}

// buckets are every bucket of the scenario with its field path.
func (s *Scenario) buckets() []namedBucket {
	bs := []namedBucket{{"spec.storage.primary", &s.Spec.Storage.Primary}}
	for i := range s.Spec.Storage.Copies {
		bs = append(bs, namedBucket{fmt.Sprintf("spec.storage.copies[%d]", i), &s.Spec.Storage.Copies[i].Bucket})
	}
	if e := s.Spec.Evidence; e != nil && e.Push != nil {
		bs = append(bs, namedBucket{"spec.evidence.push", &e.Push.Bucket})
	}
	return bs
}

func (s *Scenario) checkCAFile(path, file string, add func(path, format string, args ...any)) {
	shown := s.DisplayPath(file)
	data, err := safefile.ReadFile(file, safefile.CAFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(path, "CA file %s does not exist; put the PEM bundle of the CA that signed the endpoint's certificate there, or fix the path (relative paths are relative to the scenario file)", shown)
		return
	case err != nil:
		add(path, "%v; point caFile at a PEM file", fileError(err, shown))
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		add(path, "CA file %s holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----); point caFile at the CA's PEM bundle, or convert a DER file with: openssl x509 -inform DER -in FILE -out FILE.pem", shown)
	}
}

func (s *Scenario) checkCredentialsFile(path string, c Credentials, add func(path, format string, args ...any)) {
	shown := s.DisplayPath(c.File)
	data, err := safefile.ReadFile(c.File, safefile.Credentials)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(path+".file", "credentials file %s does not exist; create it (an AWS shared credentials file) or fix the path (relative paths are relative to the scenario file)", shown)
		return
	case err != nil:
		add(path+".file", "%v; point file at an AWS shared credentials file", fileError(err, shown))
		return
	}
	profile := c.Profile
	if profile == "" {
		profile = "default"
	}
	at := path + ".profile"
	if c.Profile == "" {
		at = path + ".file"
	}
	f := readProfiles(data, false)
	if keys, ok := f.keys[profile]; ok {
		if msg := partialCredentials(profile, "credentials file "+shown, keys); msg != "" {
			add(at, "%s", msg)
		}
		return
	}
	has := "it has no profiles"
	if len(f.names) > 0 {
		has = "it has " + quoteList(f.names, "and")
	}
	add(at, "credentials file %s has no profile %q (%s%s); set profile to one of its profiles, or add a [%s] section with aws_access_key_id and aws_secret_access_key", shown, profile, has, f.ignoredNote(profile), profile)
}

// checkSharedProfile looks for a profile named without a file where the
// AWS SDK will: its default shared credentials and config files.
func (s *Scenario) checkSharedProfile(path, profile string, add func(path, format string, args ...any)) {
	var (
		seen   []string
		note   string
		usable bool
	)
	for _, sf := range s.files.sharedFiles() {
		if sf.path == "" {
			// Nowhere to look: the drill's own environment decides.
			usable = true
			continue
		}
		kind := "credentials file"
		if sf.config {
			kind = "config file"
		}
		where := fmt.Sprintf("%s %s (%s)", kind, sf.path, sf.from)
		data, err := safefile.ReadFile(sf.path, safefile.Credentials)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// The SDK reads a missing file as an empty one.
			seen = append(seen, where+", which does not exist")
			continue
		case err != nil:
			add(path, "profile %q: %v; the AWS SDK reads that file for every profile named without credentials.file: fix it, or set file to a credentials file that holds the profile", profile, err)
			return
		}
		f := readProfiles(data, sf.config)
		keys, ok := f.keys[profile]
		if !ok {
			seen = append(seen, where)
			note += f.ignoredNote(profile)
			continue
		}
		if msg := partialCredentials(profile, where, keys); msg != "" {
			add(path, "%s", msg)
			return
		}
		usable = true
	}
	if !usable {
		add(path, "profile %q is in neither of the files the AWS SDK reads when credentials.file is not set: %s%s; add a [%s] section with aws_access_key_id and aws_secret_access_key to the credentials file (or [profile %s] to the config file) where the drill runs, or set file to the credentials file that holds it", profile, strings.Join(seen, " and "), note, profile, profile)
	}
}

// partialCredentials says what is wrong with a profile (keys are the names
// of its keys in where) that has one half of a static key pair: the AWS
// SDK refuses such a profile ("partial credentials found"). Empty if it
// has both halves or neither (a role, SSO or process profile).
func partialCredentials(profile, where string, keys []string) string {
	id, secret := slices.Contains(keys, "aws_access_key_id"), slices.Contains(keys, "aws_secret_access_key")
	switch {
	case id && !secret:
		return fmt.Sprintf("profile %s in %s has aws_access_key_id but no aws_secret_access_key, so the AWS SDK refuses it (partial credentials); add aws_secret_access_key to its section", profile, where)
	case secret && !id:
		return fmt.Sprintf("profile %s in %s has aws_secret_access_key but no aws_access_key_id, so the AWS SDK refuses it (partial credentials); add aws_access_key_id to its section", profile, where)
	}
	return ""
}

// fileError is a safefile error naming the file as the scenario does.
func fileError(err error, shown string) error {
	var se *safefile.Error
	if errors.As(err, &se) {
		return &safefile.Error{Kind: se.Kind, Path: shown, Err: se.Err}
	}
	return err
}

// profiles are the profiles of an AWS shared credentials or config file,
// as the AWS SDK reads them (aws-sdk-go-v2/config processCredentialsSections,
// processConfigSections): in a credentials file every section but
// "[profile NAME]" ones, which it ignores; in a config file
// "[profile NAME]" and "[default]", but not other bare "[NAME]" sections.
type profiles struct {
	// names in file order.
	names []string
	// keys are the key names (never the values) of each profile.
	keys map[string][]string
	// ignored are the sections the SDK drops, by the profile name they
	// were probably meant as.
	ignored map[string]string
}

// ignoredNote explains why a profile written in the file is not found.
func (p profiles) ignoredNote(profile string) string {
	section, ok := p.ignored[profile]
	switch {
	case !ok:
		return ""
	case strings.HasPrefix(section, "profile "):
		return fmt.Sprintf("; its section [%s] is ignored: a credentials file names profiles without the \"profile \" prefix, write [%s]", section, profile)
	default:
		return fmt.Sprintf("; its section [%s] is ignored: a config file names profiles other than default [profile %s]", section, profile)
	}
}

// readProfiles reads the section and key names of an AWS shared
// credentials (config false) or config file. Only names are kept; no
// value is.
func readProfiles(data []byte, config bool) profiles {
	p := profiles{keys: map[string][]string{}, ignored: map[string]string{}}
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section := strings.TrimSpace(line[1 : len(line)-1])
			name, prefixed := strings.CutPrefix(section, "profile ")
			name = strings.TrimSpace(name)
			current = ""
			switch {
			case name == "":
			case config && !prefixed && name != "default":
				p.ignored[name] = section
			case !config && prefixed:
				p.ignored[name] = section
			default:
				current = name
				if _, ok := p.keys[name]; !ok {
					p.names = append(p.names, name)
					p.keys[name] = nil
				}
			}
		case current != "":
			if key, _, ok := strings.Cut(line, "="); ok {
				p.keys[current] = append(p.keys[current], strings.ToLower(strings.TrimSpace(key)))
			}
		}
	}
	return p
}
