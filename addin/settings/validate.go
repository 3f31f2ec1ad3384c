package settings

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/models"
)

// Ranges of the numeric settings (inclusive). The sync engine relies on
// them: a zero frequency or batch size would spin.
var ranges = map[string][2]int{
	"recentDays":                  {1, 365},
	"batchSize":                   {1, 100},
	"upperLimit":                  {0, 100000},
	"appointmentWindowPastDays":   {0, 365},
	"appointmentWindowFutureDays": {1, 730},
	"standardSyncMinutes":         {15, 1440},
	"instantSyncMinutes":          {1, 60},
	"deleteBrakePercent":          {1, 100},
	"deleteBrakeMinimum":          {0, 100000},
}

// MaxCategoryName is the longest Outlook category name accepted (Outlook
// itself refuses longer ones).
const MaxCategoryName = 255

// ValidPolicy reports whether p is a conflict policy.
func ValidPolicy(p string) bool {
	return p == ServerWins || p == ClientWins || p == UserSelected
}

// Validate checks every setting and returns an invalid_argument error
// naming each offending field by its JSON path, or nil.
func (s Settings) Validate() error {
	bad := map[string]string{}
	inRange := func(path, key string, v int) {
		r := ranges[key]
		if v < r[0] || v > r[1] {
			bad[path] = fmt.Sprintf("must be between %d and %d", r[0], r[1])
		}
	}
	if !ValidPolicy(s.ConflictPolicy) {
		bad["conflictPolicy"] = "must be one of server_wins, client_wins, user_selected"
	}
	inRange("recentDays", "recentDays", s.RecentDays)
	inRange("batchSize", "batchSize", s.BatchSize)
	for name, ts := range map[string]TypeSync{"contacts": s.Contacts, "appointments": s.Appointments, "tasks": s.Tasks} {
		inRange(name+".upperLimit", "upperLimit", ts.UpperLimit)
	}
	name := strings.TrimSpace(s.CategoryName)
	switch {
	case name == "":
		bad["categoryName"] = "is required"
	case name != s.CategoryName:
		bad["categoryName"] = "must not start or end with spaces"
	case utf8.RuneCountInString(name) > MaxCategoryName:
		bad["categoryName"] = fmt.Sprintf("must be at most %d characters", MaxCategoryName)
	case strings.ContainsFunc(name, unicode.IsControl):
		bad["categoryName"] = "must not contain control characters"
	}
	inRange("appointmentWindowPastDays", "appointmentWindowPastDays", s.WindowPastDays)
	inRange("appointmentWindowFutureDays", "appointmentWindowFutureDays", s.WindowFutureDays)
	inRange("standardSyncMinutes", "standardSyncMinutes", s.StandardSyncMinutes)
	inRange("instantSyncMinutes", "instantSyncMinutes", s.InstantSyncMinutes)
	if _, ok := bad["instantSyncMinutes"]; !ok && s.InstantSyncMinutes > s.StandardSyncMinutes {
		bad["instantSyncMinutes"] = "must not exceed standardSyncMinutes"
	}
	inRange("deleteBrakePercent", "deleteBrakePercent", s.DeleteBrakePercent)
	inRange("deleteBrakeMinimum", "deleteBrakeMinimum", s.DeleteBrakeMinimum)
	if len(bad) > 0 {
		return models.Invalid(bad)
	}
	return nil
}

// Change is one setting that differs between two Settings.
type Change struct {
	Field string // JSON path, e.g. "contacts.upperLimit"
	Old   string // JSON encoding of the old value
	New   string
}

// Diff lists the settings that differ from old to new, by JSON path, sorted.
func Diff(old, new Settings) []Change {
	a, b := flatten(old), flatten(new)
	var out []Change
	for k, nv := range b {
		if ov := a[k]; ov != nv {
			out = append(out, Change{Field: k, Old: ov, New: nv})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func flatten(s Settings) map[string]string {
	raw, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if obj, ok := v.(map[string]any); ok {
			for k, x := range obj {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
			return
		}
		enc, _ := json.Marshal(v)
		out[prefix] = string(enc)
	}
	walk("", m)
	return out
}

// AuditSettings is the audit action of a changed setting.
const AuditSettings = "settings.update"

// Save validates next, stores it and writes one audit row per changed
// setting (who, when, old → new), all in the transaction of ctx. It
// returns the changes (none when next equals the stored settings).
func Save(ctx context.Context, s *models.Store, actorID int64, now time.Time, next Settings) ([]Change, error) {
	if err := next.Validate(); err != nil {
		return nil, err
	}
	// Lock the row (PostgreSQL) so concurrent saves audit a consistent old
	// value; SQLite serialises writers anyway.
	var cur models.AdminSettings
	q := s.DB(ctx).Where("id = 1").Limit(1)
	if s.Dialect() == models.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Find(&cur).Error; err != nil {
		return nil, err
	}
	prev, err := Load(ctx, s)
	if err != nil {
		return nil, err
	}
	changes := Diff(prev, next)
	if len(changes) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(next)
	if err != nil {
		return nil, models.Internal(err)
	}
	actor := &actorID
	if actorID == 0 {
		actor = nil
	}
	row := models.AdminSettings{ID: 1, Data: string(data), UpdatedAt: now, UpdatedBy: actor}
	if err := s.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "updated_at", "updated_by"}),
	}).Create(&row).Error; err != nil {
		return nil, err
	}
	entries := make([]models.AuditEntry, len(changes))
	for i, c := range changes {
		entries[i] = models.AuditEntry{ActorID: actor, Action: AuditSettings, Target: c.Field, OldValue: c.Old, NewValue: c.New, At: now}
	}
	if err := s.DB(ctx).Create(&entries).Error; err != nil {
		return nil, err
	}
	return changes, nil
}

// CanShareAppointment enforces "Allow invitees to share appointments": when
// it is off only the meeting's organizer may share it.
func (s Settings) CanShareAppointment(isOrganizer bool) error {
	if isOrganizer || s.AllowInviteesToShare {
		return nil
	}
	return models.Errorf(models.CodePermissionDenied, "Only the meeting's organizer can share this appointment: your administrator does not allow invitees to share appointments.")
}
