package models

import (
	"time"

	"gorm.io/gorm"
)

// Roles of sales users.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// Origins of CRM records. Records of origin import or merge are never
// deleted in Office 365 by a CRM delete.
const (
	OriginManual = "manual"
	OriginSync   = "sync"
	OriginImport = "import"
	OriginMerge  = "merge"
)

// Object types that activities can be associated with.
const (
	ObjectAccount     = "account"
	ObjectContact     = "contact"
	ObjectLead        = "lead"
	ObjectOpportunity = "opportunity"
	ObjectActivity    = "activity"
)

// Activity type codes seeded by the first migration.
const (
	ActivityEmail       = "EMAIL"
	ActivityAppointment = "APPOINTMENT"
	ActivityTask        = "TASK"
	ActivityCallReport  = "CALL_REPORT"
)

// User is a sales user (the CRM's own account).
type User struct {
	ID           int64
	Username     string
	DisplayName  string
	Email        string
	PasswordHash string
	Role         string
	Active       bool
	TimeZone     string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Address is the structured "Primary Address" of accounts and contacts,
// stored in addr_* columns. Formatted is the multi-line text in the
// country's order.
type Address struct {
	Country           string `gorm:"column:addr_country"`
	Line1             string `gorm:"column:addr_line1"`
	Line2             string `gorm:"column:addr_line2"`
	Line3             string `gorm:"column:addr_line3"`
	Locality          string `gorm:"column:addr_locality"`
	DependentLocality string `gorm:"column:addr_dependent_locality"`
	Region            string `gorm:"column:addr_region"`
	PostalCode        string `gorm:"column:addr_postal_code"`
	SortingCode       string `gorm:"column:addr_sorting_code"`
	Formatted         string `gorm:"column:addr_formatted"`
}

// Record holds the columns every CRM record carries.
type Record struct {
	ID        int64
	OwnerID   int64
	Version   int64
	Origin    string
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt gorm.DeletedAt
}

// Account is a customer organisation.
type Account struct {
	Record
	Name     string
	Website  string
	Industry string
	Phone    string
	Address  Address `gorm:"embedded"`
}

// Contact is a person at a customer.
type Contact struct {
	Record
	AccountID       *int64
	FirstName       string
	LastName        string
	Email           string
	EmailNorm       string
	Phone           string
	Mobile          string
	JobTitle        string
	Department      string
	Notes           string
	DupKey          string
	DuplicateReason string
	Address         Address `gorm:"embedded"`
}

// Lead is a prospective deal not yet qualified.
type Lead struct {
	Record
	AccountID *int64
	ContactID *int64
	Name      string
	Company   string
	Email     string
	EmailNorm string
	Phone     string
	Status    string
	Source    string
}

// Opportunity is a deal in the pipeline.
type Opportunity struct {
	Record
	AccountID   *int64
	ContactID   *int64
	Name        string
	Stage       string
	Status      string
	AmountCents int64
	Currency    string
	CloseDate   *time.Time
}

// ActivityType is a kind of activity an administrator can enable.
type ActivityType struct {
	Code      string `gorm:"primaryKey"`
	Name      string
	Enabled   bool
	Subtypes  string
	UpdatedAt time.Time
}

// Activity is an email, appointment, task or call report.
type Activity struct {
	Record
	TypeCode          string
	Subtype           string
	Subject           string
	BodyHTML          string `gorm:"column:body_html"`
	BodyText          string
	StartAt           *time.Time
	EndAt             *time.Time
	DueAt             *time.Time
	TimeZone          string
	AllDay            bool
	Status            string
	Importance        string
	Private           bool
	Location          string
	InternetMessageID *string
	ICalUID           *string `gorm:"column:ical_uid"`
	ConversationID    string
	OutlookItemID     string
	Source            string
	Extra             string
}

// ActivityParticipant is a sender, recipient, organizer or attendee,
// resolved to a contact or a sales user when the address is known.
type ActivityParticipant struct {
	ID         int64
	ActivityID int64
	Role       string
	ContactID  *int64
	UserID     *int64
	Email      string
	Name       string
}

// ActivityAssociation links an activity to an account, contact, lead or
// opportunity.
type ActivityAssociation struct {
	ID         int64
	ActivityID int64
	ObjectType string
	ObjectID   int64
	CreatedBy  *int64
	CreatedAt  time.Time
}

// ActivityShare records that a sales user shared the item behind an
// activity (the same email can be shared by several colleagues).
type ActivityShare struct {
	ID            int64
	ActivityID    int64
	UserID        int64
	OutlookItemID string
	Source        string
	CreatedAt     time.Time
}

// Favorite is a record starred by a user.
type Favorite struct {
	UserID     int64  `gorm:"primaryKey;autoIncrement:false"`
	ObjectType string `gorm:"primaryKey"`
	ObjectID   int64  `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt  time.Time
}

// RecentView is the last time a user viewed, created or shared a record.
type RecentView struct {
	UserID     int64  `gorm:"primaryKey;autoIncrement:false"`
	ObjectType string `gorm:"primaryKey"`
	ObjectID   int64  `gorm:"primaryKey;autoIncrement:false"`
	Action     string
	At         time.Time
}

// AdminSettings is the single row of administrator settings, stored as
// JSON so new settings need no migration.
type AdminSettings struct {
	ID        int64
	Data      string
	UpdatedAt time.Time
	UpdatedBy *int64
}

// AuditEntry records an administrative change: who, when, old → new.
type AuditEntry struct {
	ID       int64
	ActorID  *int64
	Action   string
	Target   string
	OldValue string
	NewValue string
	At       time.Time
}

// TableName keeps the table name explicit.
func (AuditEntry) TableName() string { return "audit_log" }

// Registration is the add-in's Azure AD app registration (single row).
type Registration struct {
	ID                int64
	ApplicationID     string
	Name              string
	ApplicationKeyEnc []byte
	UpdatedAt         time.Time
	UpdatedBy         *int64
}

// Sync states of a user mapping.
const (
	SyncActive      = "active"
	SyncSuspended   = "suspended"
	SyncDisabled    = "disabled"
	SyncNeedsReview = "needs_review"
)

// UserMapping maps a sales user to one Microsoft 365 account.
type UserMapping struct {
	ID              int64
	UserID          int64
	MSEmail         string `gorm:"column:ms_email"`
	MSEmailNorm     string `gorm:"column:ms_email_norm"`
	MSObjectID      string `gorm:"column:ms_object_id"`
	MSTenantID      string `gorm:"column:ms_tenant_id"`
	MSHomeAccountID string `gorm:"column:ms_home_account_id"`
	Authorized      bool
	AuthError       string
	SyncState       string
	LastConnectAt   *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ConnectAttempt is one Connect dialog: the sales sign-in, then the
// Microsoft sign-in bound to it by state and PKCE verifier.
type ConnectAttempt struct {
	ID          string `gorm:"primaryKey"`
	StateHash   string
	Trusted     bool
	UserID      *int64
	VerifierEnc []byte
	RedirectURI string
	BrowserHash string
	ExpiresAt   time.Time
	UsedAt      *time.Time
	CreatedAt   time.Time
}

// HandoffCode is the one-time code close.html hands to the pane.
type HandoffCode struct {
	CodeHash  string `gorm:"primaryKey"`
	UserID    int64
	Trusted   bool
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// Session is a signed-in pane or admin console.
type Session struct {
	ID         string `gorm:"primaryKey"`
	UserID     int64
	Trusted    bool
	Kind       string
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	LastSeenAt *time.Time
	CreatedAt  time.Time
}

// RefreshToken is one token of a session's rotating family (stored hashed).
type RefreshToken struct {
	ID        int64
	SessionID string
	TokenHash string
	ExpiresAt time.Time
	RotatedAt *time.Time
	CreatedAt time.Time
}

// TokenCache is a user's MSAL cache, encrypted.
type TokenCache struct {
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
	CacheEnc  []byte
	UpdatedAt time.Time
}

// Sync object types.
const (
	SyncContact     = "contact"
	SyncAppointment = "appointment"
	SyncTask        = "task"
)

// SyncLink pairs a CRM record with an Outlook item for one user.
type SyncLink struct {
	ID            int64
	UserID        int64
	ObjectType    string
	CrmID         int64
	GraphID       string
	ChangeKey     string
	CrmVersion    int64
	CrmSnapshot   string
	GraphSnapshot string
	State         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// SyncCursor is where a user's sync of one type stopped on each side.
type SyncCursor struct {
	UserID        int64  `gorm:"primaryKey;autoIncrement:false"`
	ObjectType    string `gorm:"primaryKey"`
	DeltaLink     string
	CrmWatermark  int64
	FirstSyncDone bool
	UpdatedAt     time.Time
}

// Sync run statuses.
const (
	RunQueued                 = "queued"
	RunInProgress             = "in_progress"
	RunSucceeded              = "succeeded"
	RunSucceededWithConflicts = "succeeded_with_conflicts"
	RunFailed                 = "failed"
)

// SyncRun is one sync of one user.
type SyncRun struct {
	ID          int64
	UserID      int64
	TriggerKind string
	Status      string
	StartedAt   time.Time
	FinishedAt  *time.Time
	GraphMs     int64
	CrmMs       int64
	Counts      string
	Error       string
	LeaseUntil  *time.Time
}

// SyncRecordEvent is one record decision of a run.
type SyncRecordEvent struct {
	ID         int64
	RunID      int64
	UserID     int64
	ObjectType string
	CrmID      *int64
	GraphID    string
	Direction  string
	Outcome    string
	Message    string
	At         time.Time
}

// SyncConflict is a record held for the user to choose per field.
type SyncConflict struct {
	ID         int64
	UserID     int64
	LinkID     int64
	ObjectType string
	CrmID      int64
	Fields     string
	Status     string
	CreatedAt  time.Time
	ResolvedAt *time.Time
}

// UsageEvent counts one kind of client or sync usage per user per day.
type UsageEvent struct {
	UserID int64  `gorm:"primaryKey;autoIncrement:false"`
	Day    string `gorm:"primaryKey"`
	Kind   string `gorm:"primaryKey"`
	Count  int64
}
