// Package scenarios is the written plan of a disaster-recovery drill: the
// Scenario type, its strict YAML loading and validation, finding a scenario
// by name, and the built-in catalog.
//
// Engineers run drills by scenario name and auditors read scenario files as
// the plan, so a scenario file must mean exactly one thing. Loading is
// therefore strict: unknown fields, wrong types, bad durations, missing
// required fields and contradictory settings are all errors, every error
// names the file, the line and the field path
// ("scenarios/x.yaml:14: spec.objectives.rto: ..."), and all errors of a
// file are reported at once as [ValidationErrors]. Likely mistakes that a
// drill can still run with are warnings ([Scenario.Warnings]), in the same
// form; [Scenario.CheckFiles] reads the CA, credentials and kubeconfig
// files the drill will need, and the AWS SDK's shared files for a profile
// named without a file. Every file is read through internal/safefile: regular files
// only, with a size limit.
//
// Credentials are references only (environment variable names, an AWS
// profile, a credentials file): a secret written into a scenario is a
// validation error whose message never repeats the value.
//
// A minimal scenario:
//
//	apiVersion: firedrill.dev/v1alpha1
//	kind: Scenario
//	metadata:
//	  name: shop-namespace-deleted
//	spec:
//	  disaster:
//	    summary: Namespace shop deleted by mistake
//	    lost: [namespace]
//	    lostNamespaces: [shop]
//	    detection: Storefront returns 503; the ticket came from the application team
//	    lead: on-call platform engineer
//	  objectives: {rto: 1h, rpo: 6h}
//	  backups:
//	    schedule: every-6h
//	    includedNamespaces: [shop]
//	  storage:
//	    primary:
//	      endpoint: https://s3.eu-west-1.example.com
//	      region: eu-west-1
//	      bucket: velero-backups
//	      credentials: {accessKeyIDEnv: AWS_ACCESS_KEY_ID, secretAccessKeyEnv: AWS_SECRET_ACCESS_KEY}
//	      objectLock: {mode: COMPLIANCE, minRetention: 7d}
//	  target:
//	    kubeconfig: ~/.kube/scratch.yaml
//
// The field-by-field reference is the doc comment of each type, starting at
// [Scenario]. Durations are Go durations (4h, 30m, 1h30m) or whole days or
// weeks (7d, 2w), and must be greater than zero.
//
// Scenarios are found by [Find] in this order: each --scenario-dir
// directory, each directory of $FIREDRILL_SCENARIOS, ./scenarios/, and the
// built-in catalog; the first source that has the name wins. See [Env].
package scenarios
