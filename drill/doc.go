// Package drill orchestrates a disaster-recovery drill: the ordered steps
// from loading the scenario to cleaning up, which of them count toward the
// RTO, and (in later work) running them with timeouts, a timeline and a
// report.
//
// So far it holds the Plan: what `firedrill run` would do for a scenario,
// computed from the scenario alone, touching no cluster, bucket or network.
// Auditors read the plan as the written procedure; engineers read it before
// a drill to see what will be checked and restored.
package drill
