// Package sync owns the two-way synchronisation between the CRM records a
// user owns and that user's mailbox: links with last-synced snapshots, the
// per-type cursors (Graph delta link + CRM version watermark), field-level
// three-way merge, conflict policies, delete rules with the safety brake,
// duplicate matching, crash recovery through the CRM id written on the
// Outlook item, and the per-run, per-record log.
//
// # Crash safety
//
// Every step that touches both systems is ordered so that a run killed at
// any point and run again neither duplicates nor loses a record:
//
//   - A create in Outlook is preceded by a committed "pending" link holding
//     the CRM id; the item is created carrying that id as a single-value
//     extended property. The next run looks every pending link up by that
//     property before creating anything, and adopts the item it finds.
//   - A record created or changed in the CRM from Outlook is written in the
//     same transaction as its link, snapshots and change key.
//   - The delta link is saved only when every incoming item of the page set
//     was applied (or deliberately skipped); otherwise the same changes are
//     read again next run and recognised by change key and snapshot.
//   - CRM changes are found by version: records above the watermark read at
//     the start of the previous run, plus linked records whose version
//     differs from the version recorded on the link (a push that failed is
//     retried). Versions come from a counter row locked until commit, so a
//     change committed concurrently with a run always carries a version
//     above the watermark that run saves.
//   - A write refused for a stale change key (412) restarts the type's
//     delta: the next run enumerates again and merges against the item as
//     it is now rather than retrying a stale write for ever.
//   - A pending link whose lookup finds nothing and whose record may no
//     longer be created (made private, out of the window, creation turned
//     off) is dropped.
//
// # Scope changes in Outlook
//
// An item whose category is removed, or which is made private, in Outlook
// takes its pair out of scope: the pair is kept, nothing is written to the
// item, and syncing resumes when Outlook brings the item back in scope.
//
// # Safety brake
//
// A run held back by the brake ends "succeeded with conflicts" with the
// brake's message as its error (what the admin monitor shows as the last
// error), the user's sync state is set to needs review, and one "brake"
// event is logged per held record.
//
// # Contact field mapping (CRM ↔ Outlook)
//
//	firstName  ↔ givenName            lastName ↔ surname
//	email      ↔ emailAddresses[0]    (further addresses stay in Outlook)
//	phone      ↔ businessPhones[0]    (further numbers stay in Outlook)
//	mobile     ↔ mobilePhone          jobTitle ↔ jobTitle
//	department ↔ department           notes    ↔ personalNotes
//	address line1+line2 ↔ businessAddress.street, locality ↔ city,
//	region ↔ state, postalCode ↔ postalCode, country ↔ countryOrRegion
//	account name → companyName (CRM to Outlook only; the account of a
//	contact is not changed from Outlook)
//
// Appointment and task mappings are documented in kind_appt.go,
// attendees.go and kind_task.go.
//
// Fields one side has and the other has not (Outlook's home address,
// nickname, birthday; the CRM's duplicate markers) are kept on their side.
package sync
