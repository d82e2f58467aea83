package scenarios

import (
	"cmp"
	"slices"
	"strings"
)

// closest returns up to limit candidates that look like a typo of s: a small
// edit distance, a different case, or one containing the other.
func closest(s string, candidates []string, limit int) []string {
	type scored struct {
		name string
		dist int
	}
	var found []scored
	seen := map[string]bool{}
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if seen[c] {
			continue
		}
		seen[c] = true
		lc := strings.ToLower(c)
		d := editDistance(ls, lc)
		switch {
		case d <= max(2, len(s)/4):
		case len(s) >= 3 && (strings.Contains(lc, ls) || strings.Contains(ls, lc)):
			d = 3
		default:
			continue
		}
		found = append(found, scored{c, d})
	}
	slices.SortFunc(found, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.name, b.name))
	})
	var names []string
	for _, f := range found[:min(limit, len(found))] {
		names = append(names, f.name)
	}
	return names
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
