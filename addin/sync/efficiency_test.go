package sync_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// TestGraphEfficiency counts requests at the fake: an initial sync of 2,000
// Outlook contacts, half of them matching CRM records (which carry one more
// field, so each match costs one write), and then an unchanged incremental
// sync.
func TestGraphEfficiency(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 2,000 contacts")
	}
	h := newHarness(t)
	h.setSettings(func(s *settings.Settings) { s.Tasks.Enabled, s.Appointments.Enabled = false, false })
	const n, pageSize = 2000, 100 // the client's default odata.maxpagesize
	var crm []models.Contact
	for i := 0; i < n; i++ {
		first, last, email := "F", fmt.Sprintf("L%04d", i), fmt.Sprintf("c%04d@example.com", i)
		_, err := h.mbx.Create(graphtest.Contacts, graph.Contact{GivenName: first, Surname: last, Categories: []string{category},
			EmailAddresses: []graph.EmailAddress{{Address: email}}})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			crm = append(crm, models.Contact{Record: models.Record{OwnerID: h.user}, FirstName: first, LastName: last, Email: email, JobTitle: "Buyer"})
		}
	}
	if err := h.store.DB(h.ctx).CreateInBatches(crm, 200).Error; err != nil {
		t.Fatal(err)
	}
	h.fake.ResetStats()
	run := h.sync()
	st := h.fake.Stats("mbx-alice")
	reads, writes := n, n/2
	ideal := int(math.Ceil(float64(reads)/pageSize) + math.Ceil(float64(writes)/graph.MaxBatchSize))
	t.Logf("initial sync of %d contacts: %d requests (ideal %d), %d writes, counts %s", n, st.Requests, ideal, st.Writes, run.Counts)
	if float64(st.Requests) > 1.1*float64(ideal) {
		t.Fatalf("initial sync: %d requests > 1.1 × %d (%v)", st.Requests, ideal, st.Endpoints)
	}
	if st.Writes != writes {
		t.Fatalf("initial sync: %d writes, want %d", st.Writes, writes)
	}
	var cnt int64
	h.store.DB(h.ctx).Model(&models.Contact{}).Where("owner_id = ?", h.user).Count(&cnt)
	if cnt != n {
		t.Fatalf("crm has %d contacts, want %d (no twins)", cnt, n)
	}
	// The next run reads the run's own writes back from the delta once
	// (pages only, no writes); after it, an unchanged sync is one request.
	h.fake.ResetStats()
	echo := h.sync()
	st = h.fake.Stats("mbx-alice")
	if st.Writes != 0 || echo.Counts != "{}" {
		t.Fatalf("echo run: %d writes, counts %s", st.Writes, echo.Counts)
	}
	t.Logf("echo run: %d delta pages", st.Requests)
	h.fake.ResetStats()
	h.sync()
	st = h.fake.Stats("mbx-alice")
	if st.Requests != 1 || st.Writes != 0 || st.Endpoints["GET /me/contacts/delta"] != 1 {
		t.Fatalf("unchanged incremental sync: %d requests, %d writes (%v)", st.Requests, st.Writes, st.Endpoints)
	}
}
