// Package version says which firedrill is running, for `firedrill version`,
// reports and evidence: an auditor must be able to tell which build made a
// drill's evidence.
package version
