package lease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"
)

// The Lease's name, timing and annotations.
const (
	// DefaultName is the Lease every drill of a scratch cluster takes.
	DefaultName = "firedrill-drill"
	// DefaultDuration is its leaseDurationSeconds: a drill that stops
	// renewing loses it this long after its last renewal.
	DefaultDuration = 60 * time.Second
	// DefaultRenewEvery is how often the holder renews it: three renewals
	// fit in one duration, so two lost in a row lose nothing.
	DefaultRenewEvery = 20 * time.Second

	AnnotationScenario = "firedrill.dev/scenario"
	AnnotationHost     = "firedrill.dev/host"
	AnnotationPID      = "firedrill.dev/pid"
	// AnnotationSince is when the holder took the Lease, RFC 3339 in UTC.
	AnnotationSince = "firedrill.dev/since"
	// LabelManagedBy marks the Lease as firedrill's.
	LabelManagedBy = "app.kubernetes.io/managed-by"
)

// Holder is a drill that holds, or wants, the Lease.
type Holder struct {
	// DrillID is the Lease's spec.holderIdentity.
	DrillID  string    `json:"drill_id"`
	Scenario string    `json:"scenario,omitempty"`
	Host     string    `json:"host,omitempty"`
	PID      int       `json:"pid,omitempty"`
	Since    time.Time `json:"since,omitempty"`
}

func (h Holder) String() string {
	s := "drill " + h.DrillID
	if h.Scenario != "" {
		s += " of scenario " + h.Scenario
	}
	if h.Host != "" {
		s += " on host " + h.Host
		if h.PID != 0 {
			s += fmt.Sprintf(" (pid %d)", h.PID)
		}
	}
	if !h.Since.IsZero() {
		s += ", since " + h.Since.UTC().Format(time.RFC3339)
	}
	return s
}

// HeldError is Acquire's refusal: another drill holds the Lease and did
// not let it go within the wait.
type HeldError struct {
	// Lease is namespace/name.
	Lease  string
	Holder Holder
	// RenewTime is the holder's last renewal; Expires is when the Lease
	// is free unless it renews again.
	RenewTime, Expires time.Time
	// Waited is how long Acquire waited (zero: it did not wait).
	Waited time.Duration
}

func (e *HeldError) Error() string {
	s := fmt.Sprintf("another drill is using the scratch cluster: Lease %s is held by %s (renewed %s)",
		e.Lease, e.Holder, e.RenewTime.UTC().Format(time.RFC3339))
	if e.Waited > 0 {
		s += fmt.Sprintf("; waited %s for it", e.Waited.Round(time.Second))
	}
	return s
}

// Lock takes the Lease Namespace/Name for Holder. The fields but Leases,
// Namespace and Holder.DrillID have defaults.
type Lock struct {
	Leases    coordinationclient.LeasesGetter
	Namespace string
	// Name is DefaultName when empty.
	Name string
	// Holder is who takes it; Acquire sets Holder.Since.
	Holder Holder
	// Duration is leaseDurationSeconds (DefaultDuration when zero);
	// RenewEvery the renewal period (DefaultRenewEvery when zero), less
	// than Duration.
	Duration, RenewEvery time.Duration
	// Clock is clock.RealClock when nil.
	Clock clock.WithTicker
	// Progress gets a line while Acquire waits (at most one every 15 s).
	Progress io.Writer
	Log      *slog.Logger
}

func (l *Lock) defaults() {
	if l.Name == "" {
		l.Name = DefaultName
	}
	if l.Duration == 0 {
		l.Duration = DefaultDuration
	}
	if l.RenewEvery == 0 {
		l.RenewEvery = DefaultRenewEvery
	}
	if l.Clock == nil {
		l.Clock = clock.RealClock{}
	}
	if l.Progress == nil {
		l.Progress = io.Discard
	}
	if l.Log == nil {
		l.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func (l *Lock) ref() string { return l.Namespace + "/" + l.Name }

// Free reports whether a drill other than the holder may take the Lease
// at now: nobody holds it (spec.holderIdentity empty), or its holder let
// it expire: renewTime (acquireTime when never renewed) plus
// leaseDurationSeconds is not after now. This is the rule of the Lease API
// (LeaseSpec.leaseDurationSeconds: "a duration that candidates for a lease
// need to wait to force acquire it ... measured against the time of last
// observed renewTime") and of client-go's leaderelection
// (tryAcquireOrRenew), read against this host's clock: it assumes the
// drills' clocks agree to a few seconds, which the 60-second duration
// dwarfs.
func Free(l *coordinationv1.Lease, now time.Time) bool {
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return true
	}
	return !now.Before(expires(l))
}

// expires is when the Lease is free unless its holder renews it.
func expires(l *coordinationv1.Lease) time.Time {
	var t time.Time
	switch {
	case l.Spec.RenewTime != nil:
		t = l.Spec.RenewTime.Time
	case l.Spec.AcquireTime != nil:
		t = l.Spec.AcquireTime.Time
	default:
		return time.Time{}
	}
	if l.Spec.LeaseDurationSeconds == nil {
		return t
	}
	return t.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)
}

// HolderOf is the drill the Lease names.
func HolderOf(l *coordinationv1.Lease) Holder {
	h := Holder{Scenario: l.Annotations[AnnotationScenario], Host: l.Annotations[AnnotationHost]}
	if l.Spec.HolderIdentity != nil {
		h.DrillID = *l.Spec.HolderIdentity
	}
	h.PID, _ = strconv.Atoi(l.Annotations[AnnotationPID])
	h.Since, _ = time.Parse(time.RFC3339, l.Annotations[AnnotationSince])
	return h
}

// Acquire takes the Lease, creating it when it does not exist, taking it
// over when it is Free, with optimistic concurrency (a Conflict or
// AlreadyExists means another drill got there first: Acquire reads it
// again). While another drill holds it, Acquire waits up to wait, watching
// the Lease, and writes a progress line; after wait (at once when wait is
// zero) it returns a *HeldError naming the holder. Once held, the Lease is
// renewed every RenewEvery on a context ctx's cancellation does not stop,
// until Held.Release. Other errors are the API server's, wrapped.
func (l *Lock) Acquire(ctx context.Context, wait time.Duration) (*Held, error) {
	l.defaults()
	leases := l.Leases.Leases(l.Namespace)
	start := l.Clock.Now()
	var printed time.Time
	for {
		now := l.Clock.Now()
		cur, err := leases.Get(ctx, l.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			created, err := leases.Create(ctx, l.claim(&coordinationv1.Lease{}, now), metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("create Lease %s: %w", l.ref(), err)
			}
			return l.hold(ctx, created), nil
		case err != nil:
			return nil, fmt.Errorf("read Lease %s: %w", l.ref(), err)
		}
		if Free(cur, now) || holderIs(cur, l.Holder.DrillID) {
			if h := cur.Spec.HolderIdentity; h != nil && *h != "" && *h != l.Holder.DrillID {
				fmt.Fprintf(l.Progress, "Lease %s: taking over from %s, expired at %s\n", l.ref(), HolderOf(cur), expires(cur).UTC().Format(time.RFC3339))
			}
			updated, err := leases.Update(ctx, l.claim(cur.DeepCopy(), now), metav1.UpdateOptions{})
			if apierrors.IsConflict(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("take Lease %s: %w", l.ref(), err)
			}
			return l.hold(ctx, updated), nil
		}
		waited := now.Sub(start)
		if waited >= wait {
			return nil, &HeldError{Lease: l.ref(), Holder: HolderOf(cur), RenewTime: renewTime(cur), Expires: expires(cur), Waited: waited}
		}
		if printed.IsZero() || now.Sub(printed) >= 15*time.Second {
			fmt.Fprintf(l.Progress, "waiting for Lease %s, held by %s: waited %s of %s\n", l.ref(), HolderOf(cur), waited.Round(time.Second), wait)
			printed = now
		}
		until := start.Add(wait)
		if e := expires(cur); e.Before(until) {
			until = e
		}
		if err := l.waitChange(ctx, cur, until.Sub(now)); err != nil {
			return nil, err
		}
	}
}

func renewTime(l *coordinationv1.Lease) time.Time {
	if l.Spec.RenewTime != nil {
		return l.Spec.RenewTime.Time
	}
	if l.Spec.AcquireTime != nil {
		return l.Spec.AcquireTime.Time
	}
	return time.Time{}
}

func holderIs(l *coordinationv1.Lease, id string) bool {
	return l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == id
}

// waitChange returns when the Lease cur changes (a watch from its
// resourceVersion), after d, or with ctx's error. Without a watch (the
// API server refused it) it waits at most RenewEvery, so the caller reads
// the Lease again.
func (l *Lock) waitChange(ctx context.Context, cur *coordinationv1.Lease, d time.Duration) error {
	w, err := l.Leases.Leases(l.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", l.Name).String(),
		ResourceVersion: cur.ResourceVersion,
	})
	var events <-chan watch.Event
	if err != nil {
		l.Log.Debug("watch Lease; reading it again later instead", "lease", l.ref(), "err", err)
		d = min(d, l.RenewEvery)
	} else {
		defer w.Stop()
		events = w.ResultChan()
	}
	// Created after the watch: a test that sees the timer knows the watch
	// is open.
	t := l.Clock.NewTimer(max(d, 0))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for Lease %s: %w", l.ref(), ctx.Err())
		case <-t.C():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if m, isLease := ev.Object.(metav1.Object); isLease && m.GetName() != l.Name {
				continue // a fake clientset's watch does not select by name
			}
			return nil
		}
	}
}

// claim makes le the Lease of this drill at now.
func (l *Lock) claim(le *coordinationv1.Lease, now time.Time) *coordinationv1.Lease {
	if le.Name == "" {
		le.Name, le.Namespace = l.Name, l.Namespace
	}
	if le.Labels == nil {
		le.Labels = map[string]string{}
	}
	le.Labels[LabelManagedBy] = "firedrill"
	if !holderIs(le, l.Holder.DrillID) {
		if le.Spec.HolderIdentity != nil && *le.Spec.HolderIdentity != "" {
			t := ptr(int32(0))
			if le.Spec.LeaseTransitions != nil {
				*t = *le.Spec.LeaseTransitions
			}
			*t++
			le.Spec.LeaseTransitions = t
		}
		l.Holder.Since = now.UTC().Truncate(time.Second)
		le.Spec.AcquireTime = &metav1.MicroTime{Time: now}
	} else if s, err := time.Parse(time.RFC3339, le.Annotations[AnnotationSince]); err == nil {
		l.Holder.Since = s
	}
	if le.Annotations == nil {
		le.Annotations = map[string]string{}
	}
	le.Annotations[AnnotationScenario] = l.Holder.Scenario
	le.Annotations[AnnotationHost] = l.Holder.Host
	le.Annotations[AnnotationPID] = strconv.Itoa(l.Holder.PID)
	le.Annotations[AnnotationSince] = l.Holder.Since.UTC().Format(time.RFC3339)
	le.Spec.HolderIdentity = ptr(l.Holder.DrillID)
	le.Spec.LeaseDurationSeconds = ptr(int32(l.Duration / time.Second))
	le.Spec.RenewTime = &metav1.MicroTime{Time: now}
	return le
}

func ptr[T any](v T) *T { return &v }

// Held is a Lease this drill holds and renews.
type Held struct {
	l    *Lock
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu sync.Mutex
	// renewed is the last time the Lease was written for this drill.
	renewed time.Time
	// lost says why the drill no longer holds it.
	lost error
}

// Lease is namespace/name.
func (h *Held) Lease() string { return h.l.ref() }

// hold starts renewing the Lease, on a context ctx's cancellation does not
// stop: cleanup after Ctrl-C still holds the scratch cluster.
func (l *Lock) hold(ctx context.Context, le *coordinationv1.Lease) *Held {
	h := &Held{l: l, stop: make(chan struct{}), done: make(chan struct{}), renewed: le.Spec.RenewTime.Time}
	fmt.Fprintf(l.Progress, "holding Lease %s (%s, renewed every %s)\n", l.ref(), l.Duration, l.RenewEvery)
	ctx = context.WithoutCancel(ctx)
	ticker := l.Clock.NewTicker(l.RenewEvery)
	go func() {
		defer close(h.done)
		defer ticker.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-ticker.C():
				h.renew(ctx)
			}
		}
	}()
	return h
}

// renew writes renewTime, within one renewal period. A failed renewal is
// tried again at the next tick; the Lease is lost when another drill
// holds it, or when renewals failed for a whole duration.
func (h *Held) renew(ctx context.Context) {
	l := h.l
	ctx, cancel := context.WithTimeout(ctx, l.RenewEvery)
	defer cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost != nil {
		return
	}
	now := l.Clock.Now()
	leases := l.Leases.Leases(l.Namespace)
	cur, err := leases.Get(ctx, l.Name, metav1.GetOptions{})
	if err == nil && !holderIs(cur, l.Holder.DrillID) {
		h.lost = fmt.Errorf("Lease %s was taken over by %s: another drill may have used the scratch cluster at the same time", l.ref(), HolderOf(cur))
		return
	}
	if err == nil {
		cur.Spec.RenewTime = &metav1.MicroTime{Time: now}
		_, err = leases.Update(ctx, cur, metav1.UpdateOptions{})
	}
	if err == nil {
		h.renewed = now
		return
	}
	l.Log.Warn("renew Lease", "lease", l.ref(), "err", err)
	if !now.Before(h.renewed.Add(l.Duration)) {
		h.lost = fmt.Errorf("Lease %s expired: not renewed since %s (%v): another drill may have used the scratch cluster at the same time",
			l.ref(), h.renewed.UTC().Format(time.RFC3339), err)
	}
}

// Lost says why the drill no longer holds the Lease; nil while it does.
func (h *Held) Lost() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lost
}

// Release stops renewing and frees the Lease for the next drill (its
// holderIdentity and this drill's annotations removed; the Lease object
// stays, so no delete permission is needed). It returns Lost's error, if
// any, joined with a failure to write the Lease; a Lease another drill
// took over is left alone. Idempotent: calls after the first return nil.
func (h *Held) Release(ctx context.Context) error {
	var err error
	h.once.Do(func() {
		close(h.stop)
		<-h.done
		err = errors.Join(h.Lost(), h.release(ctx))
	})
	return err
}

func (h *Held) release(ctx context.Context) error {
	l := h.l
	leases := l.Leases.Leases(l.Namespace)
	for {
		cur, err := leases.Get(ctx, l.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("release Lease %s: %w", l.ref(), err)
		}
		if !holderIs(cur, l.Holder.DrillID) {
			return nil
		}
		cur.Spec.HolderIdentity = nil
		cur.Spec.RenewTime = &metav1.MicroTime{Time: l.Clock.Now()}
		for _, k := range []string{AnnotationScenario, AnnotationHost, AnnotationPID, AnnotationSince} {
			delete(cur.Annotations, k)
		}
		_, err = leases.Update(ctx, cur, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("release Lease %s: %w", l.ref(), err)
		}
		fmt.Fprintf(l.Progress, "released Lease %s\n", l.ref())
		return nil
	}
}
