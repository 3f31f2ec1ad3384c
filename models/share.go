package models

import "time"

// Objects whose shares an administrator can give mandatory fields
// (Advanced Sharing Mode).
const (
	LayoutEmail       = "email"
	LayoutAppointment = "appointment"
)

// ShareLayout lists the fields a share of one object must carry when
// Advanced Sharing Mode is on. MandatoryFields is a JSON array of names.
type ShareLayout struct {
	ObjectType      string `gorm:"primaryKey"`
	MandatoryFields string
	UpdatedAt       time.Time
	UpdatedBy       *int64
}

// ShareSyncState is where the instant sync job stopped for one user: the
// last-modified watermarks of tagged messages and events, and a lease held
// while a run is in progress so runs of one user never overlap.
type ShareSyncState struct {
	UserID          int64 `gorm:"primaryKey;autoIncrement:false"`
	MessagesSince   *time.Time
	EventsDeltaLink string
	LastRunAt       *time.Time
	LastError       string
	SharedCount     int64
	LeaseUntil      *time.Time
	UpdatedAt       time.Time
}
