package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/monitor"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

// benchStore holds users mapped to Office 365 with runsPerUser runs each.
func benchStore(b *testing.B, users, runsPerUser int) *models.Store {
	store := dbtest.Open(b)
	ctx := context.Background()
	statuses := []string{models.RunSucceeded, models.RunFailed, models.RunSucceededWithConflicts}
	for i := 0; i < users; i++ {
		u := models.User{Username: fmt.Sprintf("u%05d", i), Role: models.RoleUser, Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if err := store.DB(ctx).Create(&u).Error; err != nil {
			b.Fatal(err)
		}
		m := models.UserMapping{UserID: u.ID, MSEmail: u.Username + "@m365.example", MSEmailNorm: u.Username + "@m365.example",
			Authorized: true, SyncState: models.SyncActive, CreatedAt: now, UpdatedAt: now}
		if err := store.DB(ctx).Create(&m).Error; err != nil {
			b.Fatal(err)
		}
		runs := make([]models.SyncRun, 0, runsPerUser)
		for j := 0; j < runsPerUser; j++ {
			start := now.Add(-time.Duration(runsPerUser-j) * time.Hour)
			fin := start.Add(time.Second)
			runs = append(runs, models.SyncRun{UserID: u.ID, TriggerKind: "standard", Status: statuses[(i+j)%3], StartedAt: start, FinishedAt: &fin, Counts: "{}"})
		}
		if len(runs) > 0 {
			if err := store.DB(ctx).CreateInBatches(&runs, 500).Error; err != nil {
				b.Fatal(err)
			}
		}
	}
	return store
}

func BenchmarkMonitor(b *testing.B) {
	store := benchStore(b, 2000, 20)
	svc := &monitor.Service{Store: store, Now: func() time.Time { return now }}
	ctx := context.Background()
	b.Run("counts", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := svc.Counts(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("users-page", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := svc.Users(ctx, monitor.Query{Card: monitor.CardFailed, Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("history-14d", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := svc.History(ctx, 14); err != nil {
				b.Fatal(err)
			}
		}
	})
}
