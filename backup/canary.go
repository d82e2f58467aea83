package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// Finding IDs of the canary.
const (
	idCanaryWrite       = "protection.canary.write"
	idCanaryDelete      = "protection.canary.delete"
	idCanaryBatchDelete = "protection.canary.batch-delete"
	idCanaryShorten     = "protection.canary.shorten-retention"
)

// canaryOutcome is what the canary proved, for the object check's message.
type canaryOutcome struct {
	ran bool
	// refused is true when every delete attempt was refused and the
	// version survived.
	refused bool
	// shortened is true when the canary's retention could be shortened.
	shortened bool
	// stamped is true when the canary version carried a retention of its
	// own (MinIO), false when only the bucket default protects it (Versity).
	stamped bool
	// explicit is true when the canary wrote its version with a retention
	// of its own, because the bucket has object lock but no default: what
	// it proved is that per-object retention holds, not a bucket default.
	explicit bool
}

// canaryExplicitRetention is how long the canary locks its version
// itself on a bucket without a default retention: long enough to outlast
// the checks, short enough not to pile up.
const canaryExplicitRetention = 24 * time.Hour

// canary proves, on an object of its own, that the bucket refuses to
// delete a locked version (alone and in a batch) and to shorten its
// retention. Every write goes to a key under prefix; nothing outside it
// is ever written or deleted.
type canary struct {
	// proves names the protection the version had, once written.
	proves string
	st     PrimaryStore
	bucket string
	prefix string
	now    func() time.Time
	lock   objectstore.LockConfig
	// mode is the retention mode the scenario requires; the canary uses it
	// (default COMPLIANCE) when it must lock its version itself.
	mode objectstore.LockMode
}

// guard refuses any key the canary did not make: the last line of defence
// of the rule that a drill writes only under its canary prefix.
func (c *canary) guard(key string) error {
	if c.prefix == "" || !strings.HasPrefix(key, c.prefix) || len(key) == len(c.prefix) {
		return fmt.Errorf("canary refuses to touch %q: outside its prefix %q", key, c.prefix)
	}
	return nil
}

func (c *canary) subject(key, versionID string) string {
	return objectstore.URI(c.bucket, key, versionID) + " at " + c.st.Endpoint()
}

func (c *canary) run(ctx context.Context) ([]finding.Finding, canaryOutcome, error) {
	var out canaryOutcome
	now := c.now().UTC()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	key := c.prefix + now.Format("20060102T150405Z") + "-" + hex.EncodeToString(rnd[:]) + ".txt"
	if err := c.guard(key); err != nil {
		return nil, out, err
	}
	body := fmt.Sprintf("firedrill tamper canary, written %s by a protection check.\n"+
		"It proves that object lock refuses deletes and retention changes; it is locked like a backup\n"+
		"and disappears when its retention runs out, or at once if the bucket is not protected.\n", now.Format(time.RFC3339))
	var opts objectstore.PutOptions
	if c.lock.Enabled && c.lock.DefaultMode == "" {
		// No default would lock the canary: it locks itself, as a writer
		// that stamps each object does, and proves that this holds.
		out.explicit = true
		opts.Retention = objectstore.Retention{Mode: orMode(c.mode), RetainUntil: now.Add(canaryExplicitRetention).Truncate(time.Second)}
	}
	v, err := c.st.PutObject(ctx, c.bucket, key, []byte(body), opts)
	if err != nil {
		fix := "grant s3:PutObject, s3:DeleteObjectVersion and s3:PutObjectRetention on " + c.prefix + "* or disable the canary"
		if errors.Is(err, objectstore.ErrWriteRefused) {
			// Not the server: firedrill's own guard (a canary prefix
			// outside the one it allows), which no permission changes.
			fix = "report this as a firedrill bug: the canary writes only under its own prefix, which the write guard allows"
		}
		f := finding.Warn(idCanaryWrite, c.subject(key, ""), fmt.Sprintf("the canary could not be written, so deletion refusal is not proven: %v", err)).
			With("canary written under "+c.prefix, "write failed", fix)
		if objectstore.Refused(err) {
			return []finding.Finding{f}, out, nil
		}
		return []finding.Finding{f}, out, fmt.Errorf("write canary %s: %w", c.subject(key, ""), err)
	}
	out.ran = true
	subject := c.subject(key, v.VersionID)

	// The retention the version carries: its own (MinIO) or the bucket's
	// default counted from now (Versity).
	ret, err := c.st.ObjectRetention(ctx, c.bucket, key, v.VersionID)
	switch {
	case err == nil:
		out.stamped = true
	case errors.Is(err, objectstore.ErrNoObjectLockConfig), objectstore.Refused(err):
		ret = objectstore.Retention{}
		if c.lock.DefaultMode != "" {
			ret = objectstore.Retention{Mode: c.lock.DefaultMode, RetainUntil: now.Add(c.lock.DefaultPeriod())}
		}
	default:
		return nil, out, fmt.Errorf("read retention of canary %s: %w", subject, err)
	}

	c.proves = protectionProven(ret, out.explicit, c.lock)

	var fs []finding.Finding
	var errs []error
	deleted := false
	f, gone, err := c.attempt(ctx, idCanaryDelete, subject, key, v.VersionID, "delete of the locked canary version", func() error {
		return c.st.DeleteVersion(ctx, c.bucket, key, v.VersionID)
	})
	fs, errs, deleted = append(fs, f), append(errs, err), gone
	if !deleted {
		f, gone, err = c.attempt(ctx, idCanaryBatchDelete, subject, key, v.VersionID, "batch delete (DeleteObjects) of the locked canary version", func() error {
			res, err := c.st.DeleteVersions(ctx, c.bucket, []objectstore.ObjectInfo{{Key: key, VersionID: v.VersionID}})
			if err != nil {
				return err
			}
			for _, r := range res {
				if r.Key == key && r.Err != nil {
					return r.Err
				}
			}
			return nil
		})
		fs, errs, deleted = append(fs, f), append(errs, err), gone
	}
	out.refused = !deleted && !finding.Failed(fs) && errors.Join(errs...) == nil
	if !deleted && ret.Mode != "" {
		f, err = c.shorten(ctx, subject, key, v.VersionID, ret, out.stamped)
		fs, errs = append(fs, f), append(errs, err)
		out.shortened = f.Severity == finding.SeverityCritical
	}
	return fs, out, errors.Join(errs...)
}

// attempt runs one destructive attempt on the canary version and proves
// the outcome by its effect: the version must still be there, whatever
// the server answered.
func (c *canary) attempt(ctx context.Context, id, subject, key, versionID, what string, do func() error) (finding.Finding, bool, error) {
	if err := c.guard(key); err != nil {
		return finding.Finding{}, false, err
	}
	err := do()
	_, herr := c.st.Head(ctx, c.bucket, key, versionID)
	gone := errors.Is(herr, objectstore.ErrNotFound)
	switch {
	case gone:
		msg := fmt.Sprintf("the %s succeeded although the version had %s: the bucket does not protect backups; ransomware with these credentials can delete them", what, c.proves)
		if err != nil {
			msg = fmt.Sprintf("the %s was answered %v, yet the version is gone", what, err)
		}
		return finding.Fail(id, finding.SeverityCritical, subject, msg).
			With("refused; version kept", "version deleted", hintNoLock), true, nil
	case herr != nil:
		return finding.Fail(id, finding.SeverityFail, subject, fmt.Sprintf("cannot tell whether the canary survived the %s: %v", what, herr)), false,
			fmt.Errorf("check canary %s: %w", subject, herr)
	case err == nil:
		// Answered success but the version is still there: nothing was
		// deleted, but a server saying so is not a refusal either.
		return finding.Fail(id, finding.SeverityFail, subject, fmt.Sprintf("the %s was answered success although the version is still there", what)).
			With("refused", "accepted, version kept", ""), false, nil
	case objectstore.Refused(err):
		return finding.Pass(id, subject, fmt.Sprintf("%s refused (%s); the version is still there; proven for %s", what, answer(err), c.proves)).
			With("refused; version kept", "refused; version kept", ""), false, nil
	default:
		return finding.Fail(id, finding.SeverityFail, subject, fmt.Sprintf("the %s could not be attempted: %v", what, err)), false,
			fmt.Errorf("canary %s: %w", what, err)
	}
}

// shorten tries to bring the canary's retain-until date closer, without
// bypass, and checks that it did not move.
func (c *canary) shorten(ctx context.Context, subject, key, versionID string, cur objectstore.Retention, stamped bool) (finding.Finding, error) {
	if err := c.guard(key); err != nil {
		return finding.Finding{}, err
	}
	now := c.now()
	shorter := now.Add(cur.RetainUntil.Sub(now) / 2).Truncate(time.Second)
	if min := now.Add(time.Minute).Truncate(time.Second); shorter.Before(min) {
		shorter = min
	}
	what := fmt.Sprintf("change of the retention from %s to %s", cur.RetainUntil.UTC().Format(time.RFC3339), shorter.UTC().Format(time.RFC3339))
	err := c.st.PutRetention(ctx, c.bucket, key, versionID, objectstore.Retention{Mode: cur.Mode, RetainUntil: shorter})
	after, rerr := c.st.ObjectRetention(ctx, c.bucket, key, versionID)
	if rerr != nil && !errors.Is(rerr, objectstore.ErrNoObjectLockConfig) {
		return finding.Fail(idCanaryShorten, finding.SeverityFail, subject, fmt.Sprintf("cannot read the canary's retention after the %s: %v", what, rerr)),
			fmt.Errorf("read retention of canary %s: %w", subject, rerr)
	}
	// On a server that does not stamp the default (Versity) the version
	// had no retention of its own: one it has now came from this request,
	// and counts as moved when it ends earlier than the default would.
	moved := rerr == nil && after.RetainUntil.Before(cur.RetainUntil.Add(-time.Second))
	switch {
	case moved:
		msg := fmt.Sprintf("the %s was accepted without bypass: the lock can be shortened, then the backups deleted", what)
		if !stamped {
			msg = fmt.Sprintf("the version carried no retention of its own, only the bucket default; the %s was accepted without bypass, "+
				"so anyone allowed PutObjectRetention can cut the protection of every backup object and delete it once the short date passes "+
				"(Versity 1.8.0 behaves so)", what)
		}
		return finding.Fail(idCanaryShorten, finding.SeverityCritical, subject, msg).
			With("refused; retain-until unchanged", "retain-until now "+after.RetainUntil.UTC().Format(time.RFC3339),
				"use COMPLIANCE mode; in GOVERNANCE mode remove s3:BypassGovernanceRetention and s3:PutObjectRetention from the backup credentials"), nil
	case err == nil:
		return finding.Fail(idCanaryShorten, finding.SeverityFail, subject,
			fmt.Sprintf("the %s was answered success, though the retain-until date did not move", what)).
			With("refused", "accepted", ""), nil
	case objectstore.Refused(err):
		return finding.Pass(idCanaryShorten, subject, fmt.Sprintf("%s refused (%s); retain-until unchanged", what, answer(err))).
			With("refused; retain-until unchanged", "refused; retain-until unchanged", ""), nil
	default:
		return finding.Fail(idCanaryShorten, finding.SeverityFail, subject, fmt.Sprintf("the %s could not be attempted: %v", what, err)),
			fmt.Errorf("canary %s: %w", what, err)
	}
}

func orMode(m objectstore.LockMode) objectstore.LockMode {
	if m == "" {
		return objectstore.Compliance
	}
	return m
}

// protectionProven names the protection the canary's version had: its
// own explicit retention, or the bucket default (stamped on it, or
// applied by the server without a stamp).
func protectionProven(ret objectstore.Retention, explicit bool, lock objectstore.LockConfig) string {
	switch {
	case explicit:
		return fmt.Sprintf("a retention set on the object itself (%s until %s; the bucket has no default retention, so this says nothing about objects written without one)",
			ret.Mode, ret.RetainUntil.UTC().Format(time.RFC3339))
	case lock.DefaultMode != "":
		return fmt.Sprintf("the bucket default retention (%s, %s)", lock.DefaultMode, durText(lock.DefaultPeriod()))
	}
	return "no retention at all"
}

// answer is the server's answer in a few words: "400 InvalidRequest: Object is WORM protected".
func answer(err error) string {
	var e *objectstore.Error
	if errors.As(err, &e) && (e.StatusCode != 0 || e.Code != "") {
		s := fmt.Sprintf("%d %s", e.StatusCode, e.Code)
		if e.Message != "" {
			s += ": " + e.Message
		}
		return s
	}
	return err.Error()
}
