package settings_test

import (
	"context"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

func TestDefaultsAreValid(t *testing.T) {
	if err := settings.Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesEachField(t *testing.T) {
	s := settings.Defaults()
	s.ConflictPolicy = "newest"
	s.RecentDays = 0
	s.BatchSize = 101
	s.Tasks.UpperLimit = -1
	s.CategoryName = " "
	s.WindowFutureDays = 0
	s.StandardSyncMinutes = 20
	s.InstantSyncMinutes = 30
	s.DeleteBrakePercent = 0
	err := s.Validate()
	e, ok := err.(*models.Error)
	if !ok || e.Code != models.CodeInvalidArgument {
		t.Fatalf("got %v", err)
	}
	for _, f := range []string{"conflictPolicy", "recentDays", "batchSize", "tasks.upperLimit", "categoryName",
		"appointmentWindowFutureDays", "instantSyncMinutes", "deleteBrakePercent"} {
		if e.Fields[f] == "" {
			t.Errorf("no error for %s in %v", f, e.Fields)
		}
	}
	if len(e.Fields) != 8 {
		t.Errorf("fields = %v", e.Fields)
	}
}

func TestSaveAuditsEachChange(t *testing.T) {
	store := dbtest.Open(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	u := models.User{Username: "ann", Role: models.RoleAdmin, Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	if err := store.DB(ctx).Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	next := settings.Defaults()
	next.BatchSize = 25
	next.Contacts.UpperLimit = 100
	next.ClientUsageTracking = false
	var changes []settings.Change
	err := store.Tx(ctx, func(ctx context.Context) error {
		var err error
		changes, err = settings.Save(ctx, store, u.ID, now, next)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 {
		t.Fatalf("changes = %+v", changes)
	}
	got, err := settings.Load(ctx, store)
	if err != nil || got != next {
		t.Fatalf("load = %+v, %v", got, err)
	}
	var rows []models.AuditEntry
	store.DB(ctx).Order("target").Find(&rows)
	want := []struct{ target, old, new string }{
		{"batchSize", "10", "25"}, {"clientUsageTracking", "true", "false"}, {"contacts.upperLimit", "5000", "100"},
	}
	if len(rows) != len(want) {
		t.Fatalf("audit = %+v", rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Target != w.target || r.OldValue != w.old || r.NewValue != w.new || r.Action != settings.AuditSettings ||
			r.ActorID == nil || *r.ActorID != u.ID || !r.At.Equal(now) {
			t.Errorf("audit[%d] = %+v, want %+v", i, r, w)
		}
	}
	// Saving the same settings again changes and audits nothing.
	changes, err = settings.Save(ctx, store, u.ID, now, next)
	if err != nil || len(changes) != 0 {
		t.Fatalf("resave: %v %v", changes, err)
	}
	var n int64
	store.DB(ctx).Model(&models.AuditEntry{}).Count(&n)
	if n != 3 {
		t.Fatalf("audit rows = %d", n)
	}
	// An invalid save stores nothing.
	bad := next
	bad.RecentDays = 1000
	if _, err := settings.Save(ctx, store, u.ID, now, bad); models.ErrorCode(err) != models.CodeInvalidArgument {
		t.Fatalf("invalid save: %v", err)
	}
	if got, _ := settings.Load(ctx, store); got.RecentDays != next.RecentDays {
		t.Fatal("invalid settings were stored")
	}
}

func TestUserPolicyOnlyWhenAllowed(t *testing.T) {
	store := dbtest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	u := models.User{Username: "bob", Role: models.RoleUser, Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	if err := store.DB(ctx).Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := settings.SetUserPolicy(ctx, store, u.ID, settings.ClientWins, now); models.ErrorCode(err) != models.CodePermissionDenied {
		t.Fatalf("not allowed: %v", err)
	}
	s := settings.Defaults()
	s.AllowUserOverride = true
	if _, err := settings.Save(ctx, store, 0, now, s); err != nil {
		t.Fatal(err)
	}
	v, err := settings.SetUserPolicy(ctx, store, u.ID, settings.ClientWins, now)
	if err != nil || v.Effective != settings.ClientWins || v.Own != settings.ClientWins {
		t.Fatalf("allowed: %+v %v", v, err)
	}
	if _, err := settings.SetUserPolicy(ctx, store, u.ID, "bogus", now); models.ErrorCode(err) != models.CodeInvalidArgument {
		t.Fatalf("bogus: %v", err)
	}
	// Withdrawing the permission returns the user to the default.
	s.AllowUserOverride = false
	if _, err := settings.Save(ctx, store, 0, now, s); err != nil {
		t.Fatal(err)
	}
	v, err = settings.ForUser(ctx, store, u.ID)
	if err != nil || v.Effective != settings.ServerWins || v.Own != settings.ClientWins {
		t.Fatalf("withdrawn: %+v %v", v, err)
	}
}

func TestInviteesMayShareOnlyWhenAllowed(t *testing.T) {
	s := settings.Defaults()
	if s.CanShareAppointment(false) != nil {
		t.Fatal("invitee refused by default")
	}
	s.AllowInviteesToShare = false
	if err := s.CanShareAppointment(false); models.ErrorCode(err) != models.CodePermissionDenied {
		t.Fatalf("invitee: %v", err)
	}
	if s.CanShareAppointment(true) != nil {
		t.Fatal("organizer refused")
	}
}
