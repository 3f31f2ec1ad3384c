// Package graphtest is an in-memory Microsoft Graph for tests: many
// mailboxes behind one httptest server, speaking the wire format of the
// samples in shared/conformance/graph-samples for everything SalesBridge
// calls — /me, contacts, events and calendarView delta, To Do lists and
// tasks, messages, master categories, single-value extended properties and
// $batch.
//
// It is a fake at the network edge (the project never mocks its own code):
// tests point graph.Client at Server.URL and observe what Graph would have
// seen and done. Beyond serving requests it
//
//   - keeps real delta semantics: a token returns exactly the changes since
//     it, paged by Prefer: odata.maxpagesize, deletions and events leaving
//     the calendar window as @removed, and tokens can be expired (410
//     syncStateNotFound) on demand;
//   - moves changeKey/@odata.etag on every change and answers a stale
//     If-Match with 412;
//   - injects faults, scripted or at a seeded rate: 429 with Retry-After,
//     503, latency, connection resets, and failure after the write was
//     applied;
//   - counts requests per mailbox and endpoint, the highest number in
//     flight per mailbox, and the meeting requests/updates/cancellations
//     Exchange would have sent to attendees;
//   - lets a test act as "the user in Outlook" through Mailbox methods.
//
// Typical use:
//
//	srv := graphtest.New(graphtest.WithLatency(20 * time.Millisecond))
//	defer srv.Close()
//	mb := srv.AddMailbox("user-1", graphtest.MailboxOptions{})   // token "user-1"
//	id, _ := mb.Create(graphtest.Contacts, graph.Contact{GivenName: "Ada"})
//	srv.InjectFault(graphtest.Fault{Endpoint: "POST /me/contacts", Kind: graphtest.FaultThrottle})
//	c, _ := graph.New(graph.Options{BaseURL: srv.URL(), Tokens: graph.StaticTokens{"user-1": "user-1"}})
//	... run sync ...
//	st := srv.Stats("user-1") // Requests, Endpoints, MaxInFlight, MeetingMessages, Writes
//
// It deliberately does not import the client package, so a bug shared by
// both cannot hide itself; the shape test checks the fake's JSON against
// Microsoft's published samples instead.
package graphtest
