// Package settings owns the administrator settings of Manage Office 365:
// their defaults, validation and storage (one JSON row, audited).
package settings

import (
	"context"
	"encoding/json"

	"github.com/salesbridge/salesbridge/models"
)

// Conflict policies.
const (
	ServerWins   = "server_wins"
	ClientWins   = "client_wins"
	UserSelected = "user_selected"
)

// TypeSync is the per-type synchronisation setting.
type TypeSync struct {
	Enabled    bool `json:"enabled"`
	CreateNew  bool `json:"createNew"`
	DeleteOld  bool `json:"deleteOld"`
	UpperLimit int  `json:"upperLimit"` // 0 = no limit
}

// Settings are the administrator settings. The JSON names are also the
// API's field names.
type Settings struct {
	ConflictPolicy       string   `json:"conflictPolicy"`
	AllowUserOverride    bool     `json:"allowUserOverride"`
	RecentDays           int      `json:"recentDays"`
	BatchSize            int      `json:"batchSize"`
	Contacts             TypeSync `json:"contacts"`
	Appointments         TypeSync `json:"appointments"`
	Tasks                TypeSync `json:"tasks"`
	SyncPrivateAppts     bool     `json:"syncPrivateAppointments"`
	SyncPrivateTasks     bool     `json:"syncPrivateTasks"`
	CategoryName         string   `json:"categoryName"`
	WindowPastDays       int      `json:"appointmentWindowPastDays"`
	WindowFutureDays     int      `json:"appointmentWindowFutureDays"`
	StandardSyncMinutes  int      `json:"standardSyncMinutes"`
	InstantSyncMinutes   int      `json:"instantSyncMinutes"`
	ClientUsageTracking  bool     `json:"clientUsageTracking"`
	SyncTracking         bool     `json:"synchronizationTracking"`
	MigrationEnabled     bool     `json:"migrationEnabled"`
	AdvancedSharingMode  bool     `json:"advancedSharingMode"`
	AllowInviteesToShare bool     `json:"allowInviteesToShare"`
	DeleteBrakePercent   int      `json:"deleteBrakePercent"`
	DeleteBrakeMinimum   int      `json:"deleteBrakeMinimum"`
}

// Defaults are the settings of a fresh installation (PRODUCT §4, §6, §7).
func Defaults() Settings {
	return Settings{
		ConflictPolicy:       ServerWins,
		AllowUserOverride:    false,
		RecentDays:           60,
		BatchSize:            10,
		Contacts:             TypeSync{Enabled: true, CreateNew: true, DeleteOld: true, UpperLimit: 5000},
		Appointments:         TypeSync{Enabled: true, CreateNew: true, DeleteOld: true, UpperLimit: 5000},
		Tasks:                TypeSync{Enabled: true, CreateNew: true, DeleteOld: true, UpperLimit: 5000},
		CategoryName:         "Shared with Sales",
		WindowPastDays:       30,
		WindowFutureDays:     365,
		StandardSyncMinutes:  120,
		InstantSyncMinutes:   10,
		ClientUsageTracking:  true,
		SyncTracking:         true,
		AllowInviteesToShare: true,
		DeleteBrakePercent:   20,
		DeleteBrakeMinimum:   10,
	}
}

// Load returns the stored settings over the defaults (a setting added by
// a later release takes its default until an administrator changes it).
func Load(ctx context.Context, s *models.Store) (Settings, error) {
	out := Defaults()
	var row models.AdminSettings
	res := s.DB(ctx).Where("id = 1").Limit(1).Find(&row)
	if res.Error != nil {
		return out, res.Error
	}
	if res.RowsAffected == 0 {
		return out, nil
	}
	if err := json.Unmarshal([]byte(row.Data), &out); err != nil {
		return Defaults(), models.Internal(err)
	}
	return out, nil
}
