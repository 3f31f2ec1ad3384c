package sync_test

import (
	"strings"
	"testing"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

func TestContactsBothWays(t *testing.T) {
	h := newHarness(t)
	c := h.crmContact("Ada", "Lovelace", "ada@example.com")
	gid := h.outlookContact("Grace", "Hopper", "grace@example.com")
	h.outlookContact("Private", "Person", "p@example.com", "Personal")
	run := h.sync()
	oc := outcomes(h.events(run.ID))
	if oc["to_o365:created"] != 1 || oc["to_crm:created"] != 1 || oc["to_crm:skipped-no-category"] != 1 {
		t.Fatalf("outcomes %v", oc)
	}
	if n := len(h.crmContacts()); n != 2 {
		t.Fatalf("crm has %d contacts", n)
	}
	if n := h.mbx.Count(graphtest.Contacts); n != 3 {
		t.Fatalf("outlook has %d contacts", n)
	}
	// Synchronization Tracking counts the run's changes per type and direction.
	var tracked []models.UsageEvent
	h.store.DB(h.ctx).Where("user_id = ? AND kind LIKE 'sync_contact_%'", h.user).Find(&tracked)
	byKind := map[string]int64{}
	for _, u := range tracked {
		byKind[u.Kind] += u.Count
	}
	if byKind["sync_contact_to_o365"] != 1 || byKind["sync_contact_to_crm"] != 1 {
		t.Fatalf("sync tracking %v", byKind)
	}
	// The CRM id is on the created item.
	for _, g := range h.outlookContacts() {
		if g.GivenName == "Ada" {
			if v, _ := h.mbx.ExtendedProperty(graphtest.Contacts, g.ID, graph.CRMIDPropertyID); v == "" {
				t.Fatalf("no CRM id on the created item")
			}
			if len(g.Categories) != 1 || g.Categories[0] != category {
				t.Fatalf("categories %v", g.Categories)
			}
		}
	}
	// The next run reads its own creates back once; the one after costs
	// one delta request per enabled type (contacts, appointments, tasks) and no writes.
	h.sync()
	h.fake.ResetStats()
	run = h.sync()
	if evs := h.events(run.ID); len(evs) != 0 {
		t.Fatalf("unchanged run logged %v", outcomes(evs))
	}
	st := h.fake.Stats("mbx-alice")
	if st.Requests != 3 || st.Endpoints["GET /me/contacts/delta"] != 1 || st.Endpoints["GET /me/todo/lists/{list}/tasks/delta"] != 1 ||
		st.Endpoints["GET /me/calendarView/delta"] != 1 || st.Writes != 0 {
		t.Fatalf("unchanged incremental sync: %d requests, %d writes (%v)", st.Requests, st.Writes, st.Endpoints)
	}
	// Changes on each side travel.
	h.updateCRM(c.ID, func(c *models.Contact) { c.JobTitle = "Analyst" })
	if err := h.mbx.Update(graphtest.Contacts, gid, map[string]any{"jobTitle": "Admiral"}); err != nil {
		t.Fatal(err)
	}
	h.sync()
	for _, g := range h.outlookContacts() {
		if g.GivenName == "Ada" && g.JobTitle != "Analyst" {
			t.Fatalf("CRM change not in Outlook: %+v", g)
		}
	}
	for _, cc := range h.crmContacts() {
		if cc.FirstName == "Grace" && cc.JobTitle != "Admiral" {
			t.Fatalf("Outlook change not in CRM: %+v", cc)
		}
	}
	h.fake.ResetStats()
	run = h.sync()
	if evs := h.events(run.ID); len(evs) != 0 {
		t.Fatalf("run after changes is not quiet: %v", outcomes(evs))
	}
	if st := h.fake.Stats("mbx-alice"); st.Writes != 0 || st.MeetingMessages != 0 {
		t.Fatalf("second run wrote: %+v", st)
	}
}

func TestContactsThreeWayMergeAndPolicies(t *testing.T) {
	for _, policy := range []string{settings.ServerWins, settings.ClientWins, settings.UserSelected} {
		t.Run(policy, func(t *testing.T) {
			h := newHarness(t)
			h.setSettings(func(s *settings.Settings) { s.ConflictPolicy = policy })
			c := h.crmContact("Ada", "Lovelace", "ada@example.com")
			h.sync()
			gid := h.outlookContacts()[0].ID
			// Different fields on each side merge; the same field conflicts.
			h.updateCRM(c.ID, func(c *models.Contact) { c.JobTitle = "CRM title"; c.Department = "R&D" })
			if err := h.mbx.Update(graphtest.Contacts, gid, map[string]any{"jobTitle": "Outlook title", "mobilePhone": "+44 1"}); err != nil {
				t.Fatal(err)
			}
			run := h.sync()
			var got models.Contact
			h.store.DB(h.ctx).First(&got, c.ID)
			g, _ := h.mbx.Get(graphtest.Contacts, gid)
			switch policy {
			case settings.ServerWins:
				if got.JobTitle != "CRM title" || g["jobTitle"] != "CRM title" || got.Mobile != "+44 1" || g["department"] != "R&D" {
					t.Fatalf("server wins: crm %+v outlook %v", got, g)
				}
			case settings.ClientWins:
				if got.JobTitle != "Outlook title" || g["jobTitle"] != "Outlook title" || got.Mobile != "+44 1" || g["department"] != "R&D" {
					t.Fatalf("client wins: crm %+v outlook %v", got, g)
				}
			case settings.UserSelected:
				if run.Status != models.RunSucceededWithConflicts {
					t.Fatalf("status %s", run.Status)
				}
				var sc models.SyncConflict
				if err := h.store.DB(h.ctx).Where("crm_id = ? AND status = 'open'", c.ID).First(&sc).Error; err != nil {
					t.Fatal(err)
				}
				if got.JobTitle != "CRM title" || g["jobTitle"] != "Outlook title" {
					t.Fatalf("held record was written: crm %+v outlook %v", got, g)
				}
			}
		})
	}
}

func TestContactsDeletesAndBrake(t *testing.T) {
	h := newHarness(t)
	var ids []int64
	for i := 0; i < 30; i++ {
		ids = append(ids, h.crmContact("P", string(rune('A'+i)), "").ID)
	}
	imp := h.crmContact("Imported", "One", "")
	h.updateCRM(imp.ID, func(c *models.Contact) { c.Origin = models.OriginImport })
	h.sync()
	if n := h.mbx.Count(graphtest.Contacts); n != 31 {
		t.Fatalf("outlook has %d", n)
	}
	// One CRM delete reaches Outlook; an Outlook delete reaches the CRM.
	h.deleteCRM(ids[0])
	gs := h.outlookContacts()
	var victim graph.Contact
	for _, g := range gs {
		if g.Surname == "B" {
			victim = g
		}
	}
	if err := h.mbx.Delete(graphtest.Contacts, victim.ID); err != nil {
		t.Fatal(err)
	}
	h.deleteCRM(imp.ID)
	run := h.sync()
	oc := outcomes(h.events(run.ID))
	if oc["to_o365:deleted"] != 1 || oc["to_crm:deleted"] != 1 || oc["to_o365:skipped-delete-off"] != 1 {
		t.Fatalf("outcomes %v", oc)
	}
	if n := h.mbx.Count(graphtest.Contacts); n != 29 {
		t.Fatalf("outlook has %d", n)
	}
	// Mass delete in Outlook: the brake holds everything.
	for _, g := range h.outlookContacts()[:12] {
		_ = h.mbx.Delete(graphtest.Contacts, g.ID)
	}
	run = h.sync()
	oc = outcomes(h.events(run.ID))
	if oc["to_crm:brake"] != 11 || oc["to_crm:deleted"] != 0 {
		t.Fatalf("outcomes %v", oc)
	}
	// The run row tells the admin monitor why (its last error column).
	var row models.SyncRun
	h.store.DB(h.ctx).First(&row, run.ID)
	if row.Status != models.RunSucceededWithConflicts || !strings.Contains(row.Error, "safety brake") {
		t.Fatalf("braked run row: %s %q", row.Status, row.Error)
	}
	if n := len(h.crmContacts()); n != 28 {
		t.Fatalf("crm has %d contacts after brake", n)
	}
	var um models.UserMapping
	h.store.DB(h.ctx).Where("user_id = ?", h.user).First(&um)
	if um.SyncState != models.SyncNeedsReview {
		t.Fatalf("state %s", um.SyncState)
	}
	if _, err := h.eng.SyncNow(h.ctx, h.user, "manual"); err != nil {
		t.Fatal(err)
	}
	if n := len(h.crmContacts()); n != 28 {
		t.Fatalf("crm has %d contacts", n)
	}
}

func TestContactsDuplicateMatching(t *testing.T) {
	h := newHarness(t)
	h.crmContact("Ada", "Lovelace", "ada@example.com")
	h.outlookContact("ada", "LOVELACE", "Ada@Example.com")
	h.outlookContact("Ada", "Lovelace", "ada@example.com", "Personal") // a twin, but not tagged
	h.crmContact("Grace", "Hopper", "grace@example.com")
	h.outlookContact("Grace", "Hopper", "grace@example.com", "Personal")
	run := h.sync()
	if n := len(h.crmContacts()); n != 2 {
		t.Fatalf("crm has %d contacts (%v)", n, outcomes(h.events(run.ID)))
	}
	if n := h.mbx.Count(graphtest.Contacts); n != 3 {
		t.Fatalf("outlook has %d contacts (%v)", n, outcomes(h.events(run.ID)))
	}
	// After a re-install (links and cursor lost) nothing is duplicated.
	h.store.DB(h.ctx).Exec("DELETE FROM sync_links")
	h.store.DB(h.ctx).Exec("DELETE FROM sync_cursors")
	h.sync()
	if n, m := len(h.crmContacts()), h.mbx.Count(graphtest.Contacts); n != 2 || m != 3 {
		t.Fatalf("after re-install: crm %d outlook %d", n, m)
	}
}

func TestContactsCrashAfterCreateRecoversByLookup(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 5; i++ {
		h.crmContact("N", string(rune('a'+i)), "")
	}
	// The batch is applied but its response is lost.
	h.fake.InjectFault(graphtest.Fault{Endpoint: "POST /$batch", Kind: graphtest.FaultAfterApply, Times: 10})
	run, err := h.eng.SyncNow(h.ctx, h.user, "manual")
	if err != nil {
		t.Fatal(err)
	}
	if n := h.mbx.Count(graphtest.Contacts); n != 5 {
		t.Fatalf("outlook has %d (%s)", n, run.Status)
	}
	h.fake.ClearFaults()
	h.sync()
	h.sync()
	if n := h.mbx.Count(graphtest.Contacts); n != 5 {
		t.Fatalf("duplicates after recovery: %d", n)
	}
	var pending int64
	h.store.DB(h.ctx).Table("sync_links").Where("state = 'pending'").Count(&pending)
	if pending != 0 {
		t.Fatalf("%d pending links", pending)
	}
}

func TestContactsExpiredDeltaToken(t *testing.T) {
	h := newHarness(t)
	h.crmContact("Ada", "Lovelace", "ada@example.com")
	gid := h.outlookContact("Grace", "Hopper", "grace@example.com")
	h.sync()
	h.mbx.ExpireDeltaTokens()
	_ = h.mbx.Update(graphtest.Contacts, gid, map[string]any{"jobTitle": "Admiral"})
	h.sync()
	if n, m := len(h.crmContacts()), h.mbx.Count(graphtest.Contacts); n != 2 || m != 2 {
		t.Fatalf("after resync: crm %d outlook %d", n, m)
	}
	for _, c := range h.crmContacts() {
		if c.FirstName == "Grace" && c.JobTitle != "Admiral" {
			t.Fatalf("change lost in resync")
		}
	}
}

func TestContactsScopeToggles(t *testing.T) {
	h := newHarness(t)
	h.setSettings(func(s *settings.Settings) { s.Contacts.CreateNew = false })
	h.crmContact("Ada", "Lovelace", "")
	h.outlookContact("Grace", "Hopper", "")
	run := h.sync()
	oc := outcomes(h.events(run.ID))
	if oc["to_crm:skipped-create-off"] != 1 || oc["to_o365:skipped-create-off"] != 1 {
		t.Fatalf("outcomes %v", oc)
	}
	h.setSettings(func(s *settings.Settings) { s.Contacts.UpperLimit = 1 })
	h.store.DB(h.ctx).Exec("DELETE FROM sync_cursors")
	run = h.sync()
	oc = outcomes(h.events(run.ID))
	if oc["to_o365:skipped-limit"]+oc["to_crm:skipped-limit"] != 1 {
		t.Fatalf("outcomes %v", oc)
	}
}
