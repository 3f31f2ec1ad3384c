package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	s := dbtest.Open(t)
	res, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(res.Applied) != 0 {
		t.Fatalf("second migrate applied %d migrations, want 0", len(res.Applied))
	}
	if n, err := s.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("pending = %d, %v", n, err)
	}
	if err := s.DB(ctx).Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', ?)", time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); !errors.Is(err, models.ErrSchemaTooNew) {
		t.Fatalf("migrate on newer schema: %v, want ErrSchemaTooNew", err)
	}
	if _, err := s.Pending(ctx); !errors.Is(err, models.ErrSchemaTooNew) {
		t.Fatalf("pending on newer schema: %v", err)
	}
}

func TestVersionsAndUniqueViolations(t *testing.T) {
	ctx := context.Background()
	s := dbtest.Open(t)
	u := models.User{Username: "ann", DisplayName: "Ann", Role: models.RoleUser, Active: true, TimeZone: "UTC"}
	if err := s.DB(ctx).Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	dup := models.User{Username: "ANN", Role: models.RoleUser, Active: true, TimeZone: "UTC"}
	err := models.MapErr(s.DB(ctx).Create(&dup).Error)
	if models.ErrorCode(err) != models.CodeConflict {
		t.Fatalf("duplicate username: %v, want conflict", err)
	}
	var a models.Account
	err = s.Tx(ctx, func(ctx context.Context) error {
		a = models.Account{Record: models.Record{OwnerID: u.ID}, Name: "Acme"}
		return s.DB(ctx).Create(&a).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Version == 0 || a.Origin != models.OriginManual {
		t.Fatalf("account version %d origin %q", a.Version, a.Origin)
	}
	v1 := a.Version
	a.Name = "Acme Corp"
	if err := s.DB(ctx).Save(&a).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.DB(ctx).Model(&a).Updates(map[string]any{"website": "acme.example"}).Error; err != nil {
		t.Fatal(err)
	}
	var got models.Account
	if err := s.DB(ctx).First(&got, a.ID).Error; err != nil {
		t.Fatal(err)
	}
	if got.Version <= v1+1 {
		t.Fatalf("version after two updates = %d, want > %d", got.Version, v1+1)
	}
	if err := s.SoftDelete(ctx, "accounts", a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SoftDelete(ctx, "accounts", a.ID); models.ErrorCode(err) != models.CodeNotFound {
		t.Fatalf("second delete: %v", err)
	}
	cur, _ := s.CurrentVersion(ctx)
	if cur <= got.Version {
		t.Fatalf("current version %d not above %d", cur, got.Version)
	}
}
