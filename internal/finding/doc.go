// Package finding is the one shape every check of a drill reports in: the
// protection checks of package backup today, the restore and verify steps
// and the report tomorrow. A Finding says what was checked (Subject), what
// was required (Expected), what was seen (Actual) and what to do (Hint), so
// a report can be read by someone who did not run the drill.
package finding
