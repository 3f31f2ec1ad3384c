package graph_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
)

// A delta round against the fake, as contact sync runs it: the first round
// returns everything, later rounds only what the user changed in Outlook,
// and an expired token asks for a resync.
func ExampleClient_ContactsDelta() {
	srv := graphtest.New()
	defer srv.Close()
	mb := srv.AddMailbox("alice", graphtest.MailboxOptions{})
	a, _ := mb.Create(graphtest.Contacts, graph.Contact{GivenName: "Ada"})
	_, _ = mb.Create(graphtest.Contacts, graph.Contact{GivenName: "Bob"})

	c, _ := graph.New(graph.Options{
		BaseURL: srv.URL(),
		Tokens:  graph.StaticTokens{"alice": "alice"}, // the fake maps token "alice" to mailbox "alice"
	})
	ctx := context.Background()

	r1, _ := c.ContactsDelta(ctx, "alice", graph.DeltaOptions{PageSize: 1})
	fmt.Println("first round:", len(r1.Items), "contacts in", r1.Pages, "pages")

	_ = mb.Delete(graphtest.Contacts, a) // the user deletes Ada in Outlook
	r2, _ := c.ContactsDelta(ctx, "alice", graph.DeltaOptions{Link: r1.DeltaLink})
	fmt.Println("second round:", r2.Items[0].GivenName == "", r2.Items[0].Removed.Reason)

	mb.ExpireDeltaTokens()
	_, err := c.ContactsDelta(ctx, "alice", graph.DeltaOptions{Link: r2.DeltaLink})
	fmt.Println("expired token:", errors.Is(err, graph.ErrResyncRequired))
	// Output:
	// first round: 2 contacts in 2 pages
	// second round: true deleted
	// expired token: true
}
