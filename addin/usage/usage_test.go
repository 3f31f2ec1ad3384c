package usage_test

import (
	"context"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/addin/usage"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

func TestNothingRecordedWhileTogglesAreOff(t *testing.T) {
	store := dbtest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	u := models.User{Username: "ann", Role: models.RoleUser, Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	if err := store.DB(ctx).Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	total := func() int64 {
		var n int64
		store.DB(ctx).Raw("SELECT COALESCE(SUM(count), 0) FROM usage_events").Scan(&n)
		return n
	}
	// Both toggles are on by default.
	for _, k := range []string{usage.PaneOpen, usage.Search, usage.Share, usage.Create, usage.Edit} {
		if err := usage.Record(ctx, store, u.ID, k, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := usage.Record(ctx, store, u.ID, usage.Search, 2); err != nil {
		t.Fatal(err)
	}
	if err := usage.RecordSync(ctx, store, u.ID, "sync_contact_to_crm", 4); err != nil {
		t.Fatal(err)
	}
	if got := total(); got != 11 {
		t.Fatalf("on: total = %d", got)
	}
	s := settings.Defaults()
	s.ClientUsageTracking = false
	if _, err := settings.Save(ctx, store, 0, now, s); err != nil {
		t.Fatal(err)
	}
	_ = usage.Record(ctx, store, u.ID, usage.PaneOpen, 1)
	if err := usage.RecordSync(ctx, store, u.ID, "sync_contact_to_crm", 1); err != nil {
		t.Fatal(err)
	}
	if got := total(); got != 12 {
		t.Fatalf("client off: total = %d", got)
	}
	s.SyncTracking = false
	if _, err := settings.Save(ctx, store, 0, now, s); err != nil {
		t.Fatal(err)
	}
	_ = usage.Record(ctx, store, u.ID, usage.PaneOpen, 1)
	_ = usage.RecordSync(ctx, store, u.ID, "sync_contact_to_crm", 1)
	if got := total(); got != 12 {
		t.Fatalf("both off: total = %d", got)
	}

	day := now.Format(time.DateOnly)
	rows, err := usage.Totals(ctx, store, day, day)
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]int64{}
	for _, r := range rows {
		byKind[r.Kind] = r.Count
		if r.Users != 1 {
			t.Errorf("%s users = %d", r.Kind, r.Users)
		}
	}
	if byKind[usage.Search] != 3 || byKind["sync_contact_to_crm"] != 5 || byKind[usage.PaneOpen] != 1 {
		t.Fatalf("totals = %v", byKind)
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	f, to, err := usage.ParseRange("", "", now)
	if err != nil || f != "2026-11-04" || to != "2026-12-03" {
		t.Fatalf("default: %s %s %v", f, to, err)
	}
	for _, c := range [][2]string{{"2026-13-01", ""}, {"2026-12-05", "2026-12-01"}, {"2024-01-01", "2026-01-01"}} {
		if _, _, err := usage.ParseRange(c[0], c[1], now); models.ErrorCode(err) != models.CodeInvalidArgument {
			t.Errorf("%v: %v", c, err)
		}
	}
}

func TestRecordRunKeepsCountsPerTypeAndDirection(t *testing.T) {
	store := dbtest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	u := models.User{Username: "cy", Role: models.RoleUser, Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	if err := store.DB(ctx).Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	counts := map[string]map[string]int64{"contact": {"to_crm": 3, "to_o365": 1}, "task": {"to_o365": 2, "to_crm": 0}}
	if err := usage.RecordRun(ctx, store, u.ID, counts); err != nil {
		t.Fatal(err)
	}
	if err := usage.RecordRun(ctx, store, u.ID, counts); err != nil {
		t.Fatal(err)
	}
	day := now.Format(time.DateOnly)
	rows, _ := usage.Totals(ctx, store, day, day)
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Kind] = r.Count
	}
	if len(got) != 3 || got["sync_contact_to_crm"] != 6 || got["sync_contact_to_o365"] != 2 || got["sync_task_to_o365"] != 4 {
		t.Fatalf("counts = %v", got)
	}
	s := settings.Defaults()
	s.SyncTracking = false
	if _, err := settings.Save(ctx, store, 0, now, s); err != nil {
		t.Fatal(err)
	}
	if err := usage.RecordRun(ctx, store, u.ID, counts); err != nil {
		t.Fatal(err)
	}
	rows, _ = usage.Totals(ctx, store, day, day)
	for _, r := range rows {
		if r.Count != got[r.Kind] {
			t.Fatalf("recorded while off: %+v", r)
		}
	}
}
