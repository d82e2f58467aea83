// Package envname is the one rule for the names of environment variables
// that firedrill reads credentials from: what a valid name is, what looks
// like a secret pasted where a name belongs, and how a name is shown in a
// message so that such a secret is never repeated.
package envname

import (
	"math"
	"regexp"
	"strings"
)

var (
	valid = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// accessKeyID is the shape of an AWS access key ID (long-term AKIA,
	// temporary ASIA), as AWS documents it for IAM identifiers.
	accessKeyID = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)
)

// Valid reports whether name is an environment variable name as POSIX
// shells write them: letters, digits and "_", not starting with a digit.
func Valid(name string) bool { return valid.MatchString(name) }

// LooksLikeSecret reports whether s, written where the name of an
// environment variable belongs, is more likely a credential: an AWS access
// key ID; a value that is not a valid name and holds base64's "/", "+" or
// "=" or is 16 characters or longer; a word of 16 or more characters
// without "_" that mixes digits with letters of both cases the way random
// text does (at least 2 digits, at least 30% of the letters uppercase, so
// that camelCase names stay names); or 20 or more characters of high
// entropy. Names people give variables are words, joined by "_" or in
// camelCase.
func LooksLikeSecret(s string) bool {
	switch {
	case s == "":
		return false
	case accessKeyID.MatchString(s):
		return true
	case !Valid(s) && (strings.ContainsAny(s, "/+=") || len(s) >= 16):
		return true
	case len(s) >= 16 && !strings.Contains(s, "_") && randomCase(s):
		return true
	}
	return len(s) >= 20 && entropy(s) > 4.2
}

// Display is name as a message may show it: the name itself, or, when it
// looks like a secret, a description that does not repeat it.
func Display(name string) string {
	if LooksLikeSecret(name) {
		return "(a value that looks like a secret, not shown)"
	}
	return name
}

// randomCase reports whether s mixes cases and digits as random base62 or
// base64 text does: lowercase, uppercase (30% or more of the letters) and
// at least two digits.
func randomCase(s string) bool {
	var lower, upper, digits int
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			lower++
		case r >= 'A' && r <= 'Z':
			upper++
		case r >= '0' && r <= '9':
			digits++
		}
	}
	return lower > 0 && digits >= 2 && upper*10 >= (lower+upper)*3
}

// entropy is the Shannon entropy of s in bits per character. Words in
// UPPER_SNAKE_CASE stay well below 4; 20 random base62 characters are
// near 4.3.
func entropy(s string) float64 {
	counts := map[rune]int{}
	for _, r := range s {
		counts[r]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}
