package models

import "time"

// UserSettings are a user's own settings (migration 0600).
type UserSettings struct {
	UserID         int64 `gorm:"primaryKey;autoIncrement:false"`
	ConflictPolicy string
	UpdatedAt      time.Time
}
