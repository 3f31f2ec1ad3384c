// Package graph is SalesBridge's thin, typed Microsoft Graph client: the one
// place the product talks to a user's mailbox (contacts, calendar, To Do,
// mail, master categories).
//
// It exists instead of msgraph-sdk-go because the SDK is too heavy to build
// on the project's machines, and because sync needs control the SDK hides:
//
//   - every request goes through a per-mailbox Limiter, so no mailbox ever
//     has more than 4 requests in flight or spends more than its 10-minute
//     budget, even across several worker processes (DBLimiter);
//   - throttling (429), 503 and 504 are retried with jittered backoff that
//     honours Retry-After, with bounded attempts and context cancellation;
//   - delta queries are followed from @odata.nextLink to @odata.deltaLink,
//     and an expired sync state surfaces as ErrResyncRequired so the sync
//     engine can rematch instead of recreating;
//   - writes are grouped in $batch requests whose throttled items are retried
//     one by one, not the whole batch;
//   - the SalesBridge CRM id is kept on Outlook items in a single-value
//     extended property, so a lost link is recovered by lookup.
//
// Failures are typed: errors.Is(err, ErrThrottled), ErrNotFound,
// ErrPreconditionFailed, ErrResyncRequired, … and errors.As(err, &*Error)
// for the status, Graph error code and Retry-After.
//
// All requests ask for immutable ids (Prefer: IdType="ImmutableId") because
// sync stores Graph ids in link rows and Outlook's default ids change when
// an item moves between folders.
package graph
