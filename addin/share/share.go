// Package share owns sharing Outlook emails and meetings into the CRM: the
// Email and Appointment activities, their participants and associations,
// idempotency across devices and colleagues (one activity per message or
// meeting, enforced by unique indexes), activity types, Advanced Sharing
// Mode layouts, category marking and the instant sync of tagged items.
package share

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/addin/usage"
	"github.com/salesbridge/salesbridge/models"
)

// Sources of a share (activity_shares.source).
const (
	SourcePane    = "pane"
	SourceRibbon  = "ribbon"
	SourceInstant = "instant_sync"
)

// Participant roles.
const (
	RoleFrom      = "from"
	RoleTo        = "to"
	RoleCc        = "cc"
	RoleOrganizer = "organizer"
	RoleAttendee  = "attendee"
)

// Limits on share input.
const (
	MaxSubject      = 1000
	MaxParticipants = 500
	MaxAssociations = 50
	MaxAttachments  = 200
	MaxIDLength     = 1000
)

// Enqueuer inserts a job in the transaction carried by ctx.
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Service shares items and manages activities. Graph and Queue may be nil:
// without them shares still work, but the server cannot fetch a message
// from its item id and no category is added to the Outlook item.
type Service struct {
	Store *models.Store
	Queue Enqueuer
	Graph Mailbox
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Address is an email address with its display name.
type Address struct {
	Email string
	Name  string
}

// Association links an activity to a CRM record.
type Association struct {
	Type string
	ID   int64
}

// Attachment is recorded by name, size and type; its content is not stored.
type Attachment struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
}

// EmailInput is an email to share.
type EmailInput struct {
	ItemID            string
	InternetMessageID string
	ConversationID    string
	Subject           string
	Subtype           string
	Importance        string
	From              *Address
	To                []Address
	Cc                []Address
	SentAt            *time.Time
	BodyHTML          string
	BodyText          string
	Associations      []Association
	Attachments       []Attachment
	Source            string
}

// AppointmentInput is a meeting to share.
type AppointmentInput struct {
	ItemID       string
	ICalUID      string
	Subject      string
	Subtype      string
	Importance   string
	Start        *time.Time
	End          *time.Time
	TimeZone     string
	AllDay       bool
	Location     string
	Organizer    *Address
	Attendees    []Address
	BodyHTML     string
	BodyText     string
	IsPrivate    bool
	Associations []Association
	Attachments  []Attachment
	Source       string
}

// Result is the outcome of a share: the activity, and whether this share
// created it (false: the item was already shared, by anyone).
type Result struct {
	Activity *View
	Created  bool
}

// extra is the JSON kept in activities.extra.
type extra struct {
	Attachments []Attachment `json:"attachments,omitempty"`
}

// NormEmail is the form emails are matched on.
func NormEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func checkAddress(fields map[string]string, field string, a *Address) {
	e := strings.TrimSpace(a.Email)
	if e == "" {
		fields[field+".email"] = "is required"
		return
	}
	p, err := mail.ParseAddress(e)
	if err != nil || !strings.EqualFold(p.Address, e) {
		fields[field+".email"] = "is not a valid email address"
		return
	}
	if len(a.Name) > 500 {
		fields[field+".name"] = "is longer than 500 characters"
	}
	a.Email = e
	a.Name = strings.TrimSpace(a.Name)
}

func checkCommon(fields map[string]string, subject, importance string, assocs []Association, atts []Attachment, nParticipants int) {
	if len(subject) > MaxSubject {
		fields["subject"] = fmt.Sprintf("is longer than %d characters", MaxSubject)
	}
	switch importance {
	case "", "low", "normal", "high":
	default:
		fields["importance"] = "must be one of low, normal, high"
	}
	if len(assocs) > MaxAssociations {
		fields["associations"] = fmt.Sprintf("has more than %d entries", MaxAssociations)
	}
	for i, a := range assocs {
		if !validObjectType(a.Type) {
			fields[fmt.Sprintf("associations[%d].type", i)] = "must be one of account, contact, lead, opportunity"
		}
		if a.ID <= 0 {
			fields[fmt.Sprintf("associations[%d].id", i)] = "must be a positive id"
		}
	}
	if len(atts) > MaxAttachments {
		fields["attachments"] = fmt.Sprintf("has more than %d entries", MaxAttachments)
	}
	for i, a := range atts {
		if strings.TrimSpace(a.Name) == "" || len(a.Name) > 500 {
			fields[fmt.Sprintf("attachments[%d].name", i)] = "is required (up to 500 characters)"
		}
		if a.Size < 0 {
			fields[fmt.Sprintf("attachments[%d].size", i)] = "must not be negative"
		}
	}
	if nParticipants > MaxParticipants {
		fields["participants"] = fmt.Sprintf("more than %d addresses", MaxParticipants)
	}
}

func validObjectType(t string) bool {
	switch t {
	case models.ObjectAccount, models.ObjectContact, models.ObjectLead, models.ObjectOpportunity:
		return true
	}
	return false
}

// ShareEmail shares an email for userID. When only the item id is given
// the message is read from the user's mailbox through Graph.
func (s *Service) ShareEmail(ctx context.Context, userID int64, in EmailInput) (*Result, error) {
	if in.InternetMessageID == "" && in.ItemID != "" {
		if err := s.fetchMessage(ctx, userID, &in); err != nil {
			return nil, err
		}
	}
	fields := map[string]string{}
	in.InternetMessageID = strings.TrimSpace(in.InternetMessageID)
	switch {
	case in.InternetMessageID == "":
		fields["internetMessageId"] = "is required (or send itemId alone to read the message from the mailbox)"
	case len(in.InternetMessageID) > MaxIDLength:
		fields["internetMessageId"] = "is too long"
	}
	if len(in.ItemID) > MaxIDLength*2 {
		fields["itemId"] = "is too long"
	}
	if len(in.ConversationID) > MaxIDLength {
		fields["conversationId"] = "is too long"
	}
	if in.From == nil {
		fields["from.email"] = "is required"
	} else {
		checkAddress(fields, "from", in.From)
	}
	for i := range in.To {
		checkAddress(fields, fmt.Sprintf("to[%d]", i), &in.To[i])
	}
	for i := range in.Cc {
		checkAddress(fields, fmt.Sprintf("cc[%d]", i), &in.Cc[i])
	}
	checkCommon(fields, in.Subject, in.Importance, in.Associations, in.Attachments, len(in.To)+len(in.Cc)+1)
	if len(fields) > 0 {
		return nil, models.Invalid(fields)
	}
	parts := []participant{{Role: RoleFrom, Address: *in.From}}
	for _, a := range in.To {
		parts = append(parts, participant{Role: RoleTo, Address: a})
	}
	for _, a := range in.Cc {
		parts = append(parts, participant{Role: RoleCc, Address: a})
	}
	html, text := Body(in.BodyHTML, in.BodyText)
	imid := in.InternetMessageID
	act := &models.Activity{
		TypeCode: models.ActivityEmail, Subtype: in.Subtype, Subject: in.Subject, BodyHTML: html, BodyText: text,
		StartAt: utcPtr(in.SentAt), Importance: orDefault(in.Importance, "normal"), InternetMessageID: &imid,
		ConversationID: in.ConversationID, OutlookItemID: in.ItemID, Source: "outlook_share",
	}
	return s.share(ctx, userID, shareReq{
		act: act, layout: models.LayoutEmail, parts: parts, assocs: in.Associations, atts: in.Attachments,
		source: orDefault(in.Source, SourcePane), itemID: in.ItemID, kind: ItemMessage,
		lookup: func(db *gorm.DB) *gorm.DB { return db.Where("internet_message_id = ?", imid) },
	})
}

// ShareAppointment shares a meeting for userID.
func (s *Service) ShareAppointment(ctx context.Context, userID int64, in AppointmentInput) (*Result, error) {
	if in.ICalUID == "" && in.ItemID != "" {
		if err := s.fetchEvent(ctx, userID, &in); err != nil {
			return nil, err
		}
	}
	fields := map[string]string{}
	in.ICalUID = strings.TrimSpace(in.ICalUID)
	switch {
	case in.ICalUID == "":
		fields["iCalUId"] = "is required (or send itemId alone to read the meeting from the mailbox)"
	case len(in.ICalUID) > MaxIDLength*2:
		fields["iCalUId"] = "is too long"
	}
	if in.Start == nil {
		fields["start"] = "is required"
	}
	if in.End == nil {
		fields["end"] = "is required"
	}
	if in.Start != nil && in.End != nil && in.End.Before(*in.Start) {
		fields["end"] = "must not be before start"
	}
	if in.TimeZone != "" {
		if _, err := time.LoadLocation(in.TimeZone); err != nil && !windowsZone(in.TimeZone) {
			fields["timeZone"] = "is not a known time zone"
		}
	}
	if len(in.Location) > 2000 {
		fields["location"] = "is longer than 2000 characters"
	}
	if in.Organizer == nil {
		fields["organizer.email"] = "is required"
	} else {
		checkAddress(fields, "organizer", in.Organizer)
	}
	for i := range in.Attendees {
		checkAddress(fields, fmt.Sprintf("attendees[%d]", i), &in.Attendees[i])
	}
	checkCommon(fields, in.Subject, in.Importance, in.Associations, in.Attachments, len(in.Attendees)+1)
	if len(fields) > 0 {
		return nil, models.Invalid(fields)
	}
	parts := []participant{{Role: RoleOrganizer, Address: *in.Organizer}}
	for _, a := range in.Attendees {
		parts = append(parts, participant{Role: RoleAttendee, Address: a})
	}
	html, text := Body(in.BodyHTML, in.BodyText)
	uid := in.ICalUID
	act := &models.Activity{
		TypeCode: models.ActivityAppointment, Subtype: in.Subtype, Subject: in.Subject, BodyHTML: html, BodyText: text,
		StartAt: utcPtr(in.Start), EndAt: utcPtr(in.End), TimeZone: in.TimeZone, AllDay: in.AllDay,
		Importance: orDefault(in.Importance, "normal"), Private: in.IsPrivate, Location: in.Location,
		ICalUID: &uid, OutlookItemID: in.ItemID, Source: "outlook_share",
	}
	organizer := NormEmail(in.Organizer.Email)
	return s.share(ctx, userID, shareReq{
		act: act, layout: models.LayoutAppointment, parts: parts, assocs: in.Associations, atts: in.Attachments,
		source: orDefault(in.Source, SourcePane), itemID: in.ItemID, kind: ItemEvent, organizer: organizer,
		lookup: func(db *gorm.DB) *gorm.DB {
			return db.Where("type_code = ? AND ical_uid = ?", models.ActivityAppointment, uid)
		},
	})
}

// windowsZone accepts Windows time zone names as Outlook sends them
// ("Pacific Standard Time"): letters, spaces and a few signs.
func windowsZone(tz string) bool {
	if len(tz) > 100 {
		return false
	}
	for _, r := range tz {
		if !(r == ' ' || r == '.' || r == '-' || r == '+' || r == '(' || r == ')' || r == ':' || r == ',' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return strings.Contains(tz, " ")
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

type shareReq struct {
	act       *models.Activity
	layout    string
	parts     []participant
	assocs    []Association
	atts      []Attachment
	source    string
	itemID    string
	kind      string
	organizer string
	lookup    func(db *gorm.DB) *gorm.DB
}

// share is the one code path of every share (pane, ribbon, instant sync):
// check the type, resolve participants, insert-or-get the activity on its
// unique key, then add associations, the sharer's owner link, recent
// views, usage and the category-marking job.
func (s *Service) share(ctx context.Context, userID int64, r shareReq) (*Result, error) {
	var res *Result
	err := s.Store.Tx(ctx, func(ctx context.Context) error {
		db := s.Store.DB(ctx)
		typ, err := s.activeType(ctx, r.act.TypeCode)
		if err != nil {
			return err
		}
		if err := checkSubtype(typ, r.act.Subtype); err != nil {
			return err
		}
		st, err := settings.Load(ctx, s.Store)
		if err != nil {
			return err
		}
		if r.kind == ItemEvent && !st.AllowInviteesToShare {
			if err := s.requireOrganizer(ctx, userID, r.organizer); err != nil {
				return err
			}
		}
		var existing models.Activity
		found := r.lookup(db.Unscoped().Model(&models.Activity{})).Limit(1).Find(&existing)
		if found.Error != nil {
			return found.Error
		}
		resolved, err := s.resolve(ctx, r.parts)
		if err != nil {
			return err
		}
		assocs, err := s.checkAssociations(ctx, r.assocs)
		if err != nil {
			return err
		}
		if len(assocs) == 0 && found.RowsAffected == 0 {
			assocs = defaultAssociations(resolved)
		}
		if found.RowsAffected == 0 && st.AdvancedSharingMode {
			if err := s.checkMandatory(ctx, r.layout, r.act, assocs); err != nil {
				return err
			}
		}
		now := s.now()
		created := false
		act := &existing
		if found.RowsAffected == 0 {
			if len(r.atts) > 0 {
				b, _ := json.Marshal(extra{Attachments: r.atts})
				r.act.Extra = string(b)
			} else {
				r.act.Extra = "{}"
			}
			r.act.OwnerID = userID
			r.act.Origin = models.OriginManual
			r.act.CreatedAt, r.act.UpdatedAt = now, now
			ins := db.Clauses(clause.OnConflict{DoNothing: true}).Create(r.act)
			if ins.Error != nil {
				return ins.Error
			}
			if ins.RowsAffected == 1 && r.act.ID != 0 {
				created = true
				act = r.act
				if err := s.insertParticipants(ctx, act.ID, resolved); err != nil {
					return err
				}
			} else {
				// A concurrent share of the same item won; its row is
				// committed and visible to this statement.
				if err := r.lookup(db.Unscoped().Model(&models.Activity{})).Take(&existing).Error; err != nil {
					return err
				}
			}
		}
		if act.DeletedAt.Valid {
			return models.Errorf(models.CodeConflict, "This item was shared before and the activity was deleted since.")
		}
		if err := s.addAssociations(ctx, act.ID, userID, assocs, now); err != nil {
			return err
		}
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.ActivityShare{
			ActivityID: act.ID, UserID: userID, OutlookItemID: r.itemID, Source: r.source, CreatedAt: now,
		}).Error; err != nil {
			return err
		}
		if err := s.touchRecent(ctx, userID, assocs, now); err != nil {
			return err
		}
		if err := usage.Record(ctx, s.Store, userID, usage.Share, 1); err != nil {
			return err
		}
		// Items found by the instant sync already carry the category.
		if r.itemID != "" && r.source != SourceInstant && s.Queue != nil && s.Graph != nil {
			if err := s.Queue.Enqueue(ctx, MarkCategoryArgs{UserID: userID, ItemID: r.itemID, Item: r.kind}, nil); err != nil {
				return err
			}
		}
		v, err := s.view(ctx, userID, act)
		if err != nil {
			return err
		}
		res = &Result{Activity: v, Created: created}
		return nil
	})
	return res, err
}

func (s *Service) requireOrganizer(ctx context.Context, userID int64, organizer string) error {
	var n int64
	err := s.Store.DB(ctx).Raw(`SELECT COUNT(*) FROM users u LEFT JOIN user_mappings m ON m.user_id = u.id
		WHERE u.id = ? AND (lower(u.email) = ? OR m.ms_email_norm = ?)`, userID, organizer, organizer).Scan(&n).Error
	if err != nil {
		return err
	}
	if n == 0 {
		return models.Errorf(models.CodePermissionDenied,
			"Only the organizer may share this meeting: an administrator has turned off \"Allow invitees to share appointments\".")
	}
	return nil
}

// activeType returns the activity type, or precondition_failed naming the
// administrator task that fixes a missing or disabled type.
func (s *Service) activeType(ctx context.Context, code string) (*models.ActivityType, error) {
	var t models.ActivityType
	res := s.Store.DB(ctx).Where("code = ?", code).Limit(1).Find(&t)
	if res.Error != nil {
		return nil, res.Error
	}
	name := typeName(code)
	if res.RowsAffected == 0 || !t.Enabled {
		state := "disabled"
		if res.RowsAffected == 0 {
			state = "missing"
		}
		return nil, &models.Error{Code: models.CodePreconditionFailed,
			Message: fmt.Sprintf("The %s activity type is %s. An administrator must enable the %s activity type in Manage Activity Type and Subtype.", name, state, name),
			Details: map[string]any{"activityType": code}}
	}
	return &t, nil
}

func typeName(code string) string {
	switch code {
	case models.ActivityEmail:
		return "Email"
	case models.ActivityAppointment:
		return "Appointment"
	}
	return code
}

func checkSubtype(t *models.ActivityType, subtype string) error {
	if subtype == "" {
		return nil
	}
	var subs []string
	_ = json.Unmarshal([]byte(t.Subtypes), &subs)
	for _, s := range subs {
		if s == subtype {
			return nil
		}
	}
	return models.InvalidField("subtype", "is not a subtype of the "+t.Name+" activity type")
}

// checkAssociations verifies the records exist, one query per object type,
// and returns them deduplicated.
func (s *Service) checkAssociations(ctx context.Context, in []Association) ([]Association, error) {
	byType := map[string][]int64{}
	seen := map[Association]bool{}
	var out []Association
	for _, a := range in {
		if seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
		byType[a.Type] = append(byType[a.Type], a.ID)
	}
	db := s.Store.DB(ctx)
	fields := map[string]string{}
	for typ, ids := range byType {
		var found []int64
		if err := db.Table(tableOf[typ]).Where("id IN ? AND deleted_at IS NULL", ids).Pluck("id", &found).Error; err != nil {
			return nil, err
		}
		ok := map[int64]bool{}
		for _, id := range found {
			ok[id] = true
		}
		for i, a := range in {
			if a.Type == typ && !ok[a.ID] {
				fields[fmt.Sprintf("associations[%d].id", i)] = "no such " + typ
			}
		}
	}
	if len(fields) > 0 {
		return nil, models.Invalid(fields)
	}
	return out, nil
}

var tableOf = map[string]string{
	models.ObjectAccount:     "accounts",
	models.ObjectContact:     "contacts",
	models.ObjectLead:        "leads",
	models.ObjectOpportunity: "opportunities",
}

func (s *Service) addAssociations(ctx context.Context, activityID, userID int64, assocs []Association, now time.Time) error {
	if len(assocs) == 0 {
		return nil
	}
	rows := make([]models.ActivityAssociation, 0, len(assocs))
	for _, a := range assocs {
		rows = append(rows, models.ActivityAssociation{ActivityID: activityID, ObjectType: a.Type, ObjectID: a.ID, CreatedBy: &userID, CreatedAt: now})
	}
	return s.Store.DB(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
}

func (s *Service) touchRecent(ctx context.Context, userID int64, assocs []Association, now time.Time) error {
	if len(assocs) == 0 {
		return nil
	}
	rows := make([]models.RecentView, 0, len(assocs))
	for _, a := range assocs {
		rows = append(rows, models.RecentView{UserID: userID, ObjectType: a.Type, ObjectID: a.ID, Action: "shared", At: now})
	}
	return s.Store.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "object_type"}, {Name: "object_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"action", "at"}),
	}).Create(&rows).Error
}
