package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/demo"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

func count(t *testing.T, s *models.Store, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := s.DB(context.Background()).Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestSeedCountsAndIdempotence(t *testing.T) {
	s := dbtest.Open(t)
	ctx := context.Background()
	start := time.Now()
	if err := demo.Seed(ctx, s); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %v on %s", time.Since(start), dbtest.Engine())
	want := map[string]int64{
		"users": int64(len(demo.Users)), "accounts": demo.NumAccounts, "contacts": demo.NumContacts,
		"leads": demo.NumLeads, "opportunities": demo.NumOpportunities, "activities": demo.NumActivities,
	}
	for table, n := range want {
		if got := count(t, s, table, ""); got != n {
			t.Errorf("%s: %d rows, want %d", table, got, n)
		}
	}
	v1, _ := s.CurrentVersion(ctx)
	parts, assocs := count(t, s, "activity_participants", ""), count(t, s, "activity_associations", "")
	if parts < demo.NumActivities || assocs < 2*demo.NumActivities {
		t.Errorf("participants %d, associations %d: too few", parts, assocs)
	}

	if err := demo.Seed(ctx, s); err != nil {
		t.Fatal(err)
	}
	for table, n := range want {
		if got := count(t, s, table, ""); got != n {
			t.Errorf("after a second seed %s: %d rows, want %d", table, got, n)
		}
	}
	if v2, _ := s.CurrentVersion(ctx); v2 != v1 {
		t.Errorf("second seed moved the CRM version %d → %d", v1, v2)
	}
	if got := count(t, s, "activity_participants", ""); got != parts {
		t.Errorf("second seed added participants: %d → %d", parts, got)
	}
}

func TestSeedContent(t *testing.T) {
	s := dbtest.Open(t)
	ctx := context.Background()
	if err := demo.Seed(ctx, s); err != nil {
		t.Fatal(err)
	}
	db := s.DB(ctx)

	var countries []string
	if err := db.Model(&models.Account{}).Distinct().Pluck("addr_country", &countries).Error; err != nil {
		t.Fatal(err)
	}
	if len(countries) < 8 {
		t.Errorf("accounts in %d countries %v, want at least 8", len(countries), countries)
	}
	if n := count(t, s, "accounts", "addr_line1 = '' OR addr_locality = '' OR addr_postal_code = '' OR addr_country = '' OR addr_formatted NOT LIKE ?", "%\n%"); n > 0 {
		t.Errorf("%d accounts with an incomplete address", n)
	}
	if n := count(t, s, "contacts", "addr_line1 = '' OR addr_locality = '' OR addr_country = '' OR addr_formatted = ''"); n > 0 {
		t.Errorf("%d contacts with an incomplete address", n)
	}

	var contacts []models.Contact
	if err := db.Find(&contacts).Error; err != nil {
		t.Fatal(err)
	}
	emails := map[string]bool{}
	for _, c := range contacts {
		norm := strings.ToLower(strings.TrimSpace(c.Email))
		if c.EmailNorm != norm {
			t.Errorf("contact %d email_norm %q, want %q", c.ID, c.EmailNorm, norm)
		}
		if want := strings.ToLower(c.FirstName) + "|" + strings.ToLower(c.LastName) + "|" + norm; c.DupKey != want {
			t.Errorf("contact %d dup_key %q, want %q", c.ID, c.DupKey, want)
		}
		if emails[norm] {
			t.Errorf("email %s used twice", norm)
		}
		emails[norm] = true
		if !strings.HasPrefix(c.Phone, "+") || len(c.Phone) < 9 || len(c.Phone) > 16 {
			t.Errorf("contact %d phone %q is not E.164", c.ID, c.Phone)
		}
		if c.Version == 0 || c.AccountID == nil {
			t.Errorf("contact %d: version %d account %v", c.ID, c.Version, c.AccountID)
		}
	}

	for _, st := range []string{"open", "won", "lost"} {
		if count(t, s, "opportunities", "status = ?", st) == 0 {
			t.Errorf("no %s opportunity", st)
		}
	}
	for _, tc := range []string{models.ActivityEmail, models.ActivityAppointment, models.ActivityTask, models.ActivityCallReport} {
		if count(t, s, "activities", "type_code = ?", tc) == 0 {
			t.Errorf("no %s activity", tc)
		}
	}
	if n := count(t, s, "activities", "type_code = ? AND internet_message_id IS NULL", models.ActivityEmail); n > 0 {
		t.Errorf("%d emails without internet_message_id", n)
	}
	if n := count(t, s, "activities", "type_code = ? AND ical_uid IS NULL", models.ActivityAppointment); n > 0 {
		t.Errorf("%d appointments without ical_uid", n)
	}
	yearAgo := time.Now().AddDate(-1, 0, -1)
	if n := count(t, s, "activities", "created_at < ?", yearAgo); n > 0 {
		t.Errorf("%d activities older than a year", n)
	}
	var roles []string
	db.Model(&models.ActivityParticipant{}).Distinct().Pluck("role", &roles)
	if len(roles) != 5 {
		t.Errorf("participant roles %v, want from/to/cc/organizer/attendee", roles)
	}
	var owners int64
	db.Model(&models.Activity{}).Distinct("owner_id").Count(&owners)
	if owners != 4 {
		t.Errorf("activities owned by %d users, want the 4 sales users", owners)
	}
}

func TestSeedDeterministic(t *testing.T) {
	ctx := context.Background()
	names := func() []string {
		s := dbtest.Open(t)
		if err := demo.Seed(ctx, s); err != nil {
			t.Fatal(err)
		}
		var out []string
		s.DB(ctx).Model(&models.Contact{}).Order("id").Pluck("email", &out)
		return out
	}
	a, b := names(), names()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("two seeds produced different contacts")
	}
}
