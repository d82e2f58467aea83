// Package notify tells people how a drill ended, the moment it ends: a
// webhook (a chat channel, an on-call tool, an automation) receives a JSON
// summary of the drill or a Slack-compatible message.
//
// A notification is a courtesy, never part of what a drill proves: it is
// retried with backoff within a bounded time, and when it cannot be
// delivered the caller reports a warning and the drill's result stands.
// Webhook URLs often carry a token (Slack's do, in the path), so nothing
// here prints more of a URL than its scheme and host.
package notify
