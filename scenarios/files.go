package scenarios

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// CheckFiles reads the files the scenario's buckets name, as the drill
// will: each caFile must be a PEM bundle holding at least one certificate,
// each credentials file must exist and hold the profile the scenario uses
// (profile, default "default"). It returns one problem per field, with the
// field's line and the fix, or nil. It reads nothing else and contacts
// nothing. The runbook file is checked when the scenario loads.
//
// The profile must be in the file itself because the file is all that
// Velero gets when the drill restores from a copy; an AWS config file
// elsewhere is not consulted. Files are read through safefile, so a
// device or FIFO is a problem too, never a hang.
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
		if c := b.Credentials; c != nil && c.File != "" {
			s.checkCredentialsFile(b.path+".credentials", *c, add)
		}
	}
	return errs.sorted()
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
	profiles := iniSections(data)
	if slices.Contains(profiles, profile) {
		return
	}
	at := path + ".profile"
	if c.Profile == "" {
		at = path + ".file"
	}
	has := "it has no profiles"
	if len(profiles) > 0 {
		has = "it has " + quoteList(profiles, "and")
	}
	add(at, "credentials file %s has no profile %q (%s); set profile to one of its profiles, or add a [%s] section with aws_access_key_id and aws_secret_access_key", shown, profile, has, profile)
}

// fileError is a safefile error naming the file as the scenario does.
func fileError(err error, shown string) error {
	var se *safefile.Error
	if errors.As(err, &se) {
		return &safefile.Error{Kind: se.Kind, Path: shown, Err: se.Err}
	}
	return err
}

// iniSections lists the section names of an AWS shared credentials or
// config file: "[name]", or "[profile name]" as the config file writes
// them. Only names are read; no value is kept.
func iniSections(data []byte) []string {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
			continue
		}
		name := strings.TrimSpace(line[1 : len(line)-1])
		if rest, ok := strings.CutPrefix(name, "profile "); ok {
			name = strings.TrimSpace(rest)
		}
		if name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}
