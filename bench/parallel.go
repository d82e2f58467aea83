package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// eachIndex calls fn for every i in [0, n), at most workers calls at a
// time, and returns the first error (or ctx's), after which no new call
// starts. The benchmarks seed and read their buckets with it.
func eachIndex(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// progress prints "  LABEL d/n (s s)" to standard error every `every`
// calls of tick, for seeding that takes minutes.
type progress struct {
	label    string
	n, every int64
	start    time.Time
	done     atomic.Int64
}

func newProgress(label string, n, every int) *progress {
	return &progress{label: label, n: int64(n), every: int64(every), start: time.Now()}
}

func (p *progress) tick() {
	if d := p.done.Add(1); d%p.every == 0 {
		fmt.Fprintf(os.Stderr, "  %s%d/%d (%.0f s)\n", p.label, d, p.n, time.Since(p.start).Seconds())
	}
}
