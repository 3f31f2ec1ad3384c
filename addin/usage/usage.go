// Package usage records Client Usage Tracking and Synchronization Tracking
// counters per user per day, only while the administrator's toggle is on.
package usage

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// Client usage kinds.
const (
	PaneOpen = "pane_open"
	Search   = "search"
	Share    = "share"
	Create   = "create"
	Edit     = "edit"
)

// Record adds n to a client usage counter when Client Usage Tracking is on.
func Record(ctx context.Context, s *models.Store, userID int64, kind string, n int64) error {
	st, err := settings.Load(ctx, s)
	if err != nil || !st.ClientUsageTracking {
		return err
	}
	return add(ctx, s, userID, kind, n)
}

// RecordSync adds n to a synchronisation counter (kind like
// "sync_contact_to_crm") when Synchronization Tracking is on.
func RecordSync(ctx context.Context, s *models.Store, userID int64, kind string, n int64) error {
	st, err := settings.Load(ctx, s)
	if err != nil || !st.SyncTracking {
		return err
	}
	return add(ctx, s, userID, kind, n)
}

func add(ctx context.Context, s *models.Store, userID int64, kind string, n int64) error {
	day := time.Now().UTC().Format("2006-01-02")
	return s.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "day"}, {Name: "kind"}},
		DoUpdates: clause.Assignments(map[string]any{"count": clause.Expr{SQL: "usage_events.count + ?", Vars: []any{n}}}),
	}).Create(&models.UsageEvent{UserID: userID, Day: day, Kind: kind, Count: n}).Error
}

// SyncKind is the counter name of a sync run's count for one object type
// and direction, e.g. "sync_contact_to_crm".
func SyncKind(objectType, direction string) string {
	return "sync_" + objectType + "_" + direction
}

// RecordRun adds a finished run's counts (object type → direction → n) to
// the user's Synchronization Tracking counters, when that toggle is on.
func RecordRun(ctx context.Context, s *models.Store, userID int64, counts map[string]map[string]int64) error {
	st, err := settings.Load(ctx, s)
	if err != nil || !st.SyncTracking {
		return err
	}
	for typ, dirs := range counts {
		for dir, n := range dirs {
			if n == 0 {
				continue
			}
			if err := add(ctx, s, userID, SyncKind(typ, dir), n); err != nil {
				return err
			}
		}
	}
	return nil
}
