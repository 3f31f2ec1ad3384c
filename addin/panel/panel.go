// Package panel owns what the Outlook side panel shows and edits: the
// context of an email or meeting, search, recent and favorite records, the
// top connections of a contact, and the create/edit/delete of contacts,
// accounts, leads and opportunities with their addresses, phone numbers
// and duplicate check. Everything is scoped to the calling sales user.
package panel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/addin/jobs"
	"github.com/salesbridge/salesbridge/models"
)

// Service is the side panel's logic. Every method runs in the transaction
// carried by ctx (see models.Store.Tx).
type Service struct {
	Store *models.Store
	// Queue receives the push-to-mailbox jobs of contact changes.
	Queue jobs.Enqueuer
	// Now is the clock (UTC); nil means time.Now.
	Now func() time.Time
	// DefaultRegion reads national phone numbers when a record has no
	// address country (ISO 3166-1 alpha-2). Empty means "US".
	DefaultRegion string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) region() string {
	if s.DefaultRegion != "" {
		return s.DefaultRegion
	}
	return "US"
}

// Record types the panel handles.
const (
	TypeAccount     = models.ObjectAccount
	TypeContact     = models.ObjectContact
	TypeLead        = models.ObjectLead
	TypeOpportunity = models.ObjectOpportunity
	TypeActivity    = models.ObjectActivity
)

// RecordTypes are the searchable, favoritable record types in display order.
var RecordTypes = []string{TypeContact, TypeAccount, TypeLead, TypeOpportunity}

// ValidRecordType reports whether t is one of RecordTypes.
func ValidRecordType(t string) bool {
	for _, r := range RecordTypes {
		if r == t {
			return true
		}
	}
	return false
}

// tableOf maps a record type to its table.
var tableOf = map[string]string{
	TypeAccount:     "accounts",
	TypeContact:     "contacts",
	TypeLead:        "leads",
	TypeOpportunity: "opportunities",
	TypeActivity:    "activities",
}

// Recent actions.
const (
	ActionViewed  = "viewed"
	ActionCreated = "created"
	ActionEdited  = "edited"
	ActionShared  = "shared"
)

// Touch records that the user viewed, created, edited or shared a record,
// for the Recent list.
func (s *Service) Touch(ctx context.Context, userID int64, objectType string, id int64, action string) error {
	return s.Store.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "object_type"}, {Name: "object_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"action", "at"}),
	}).Create(&models.RecentView{UserID: userID, ObjectType: objectType, ObjectID: id, Action: action, At: s.now()}).Error
}

// encodeCursor turns a paging position into an opaque token.
func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a token made by encodeCursor; a malformed one is a
// field error on "cursor".
func decodeCursor(raw string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil || json.Unmarshal(b, v) != nil {
		return models.InvalidField("cursor", "is not a cursor returned by this endpoint")
	}
	return nil
}

// NormEmail is the stored, compared form of an email address.
func NormEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
