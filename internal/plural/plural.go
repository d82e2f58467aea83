// Package plural is the one rule for a count and its noun in what
// firedrill writes for people (reports, retrospectives, findings,
// messages): "1 check passed", "2 checks passed", "0 errors". A count
// printed with a fixed plural ("1 checks") reads as a bug in the report
// an auditor is given.
package plural

import "fmt"

// Integer is any count: Velero's counts are int64, Go's lengths int.
type Integer interface {
	~int | ~int32 | ~int64
}

// Of is one when n is 1, else many: the word that goes with a count of n
// ("drill" or "drills", "it" or "them", "is" or "are").
func Of[N Integer](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Count is n followed by its noun: "1 error", "3 errors", "0 errors".
func Count[N Integer](n N, one, many string) string {
	return fmt.Sprintf("%d %s", n, Of(n, one, many))
}
