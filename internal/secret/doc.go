// Package secret is firedrill's one secret policy: a Set knows every
// secret value a drill holds (the scenario's S3 credentials, the evidence
// signing key and its path, the history and evidence push credentials,
// webhook and Pushgateway URLs with their tokens, kubeconfig tokens and
// client keys, the values of restored Secrets) and replaces each of them,
// in the encodings firedrill's outputs use, in everything the drill
// writes or sends. The drill's writers (the drill directory, the shared
// history, the evidence bundle, notifications, stderr) all go through
// one Set; nothing else redacts.
package secret
