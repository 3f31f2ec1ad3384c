package panel

import (
	"context"
	"net/mail"
	"sort"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/models"
)

// MaxContextAddresses bounds the addresses of one context request.
const MaxContextAddresses = 50

// Caps of the lists in a context entry.
const (
	contextOpportunities = 5
	contextLeads         = 5
	contextActivities    = 5
)

// Address kinds of a context entry.
const (
	KindContact = "contact"
	KindUser    = "user"
	KindUnknown = "unknown"
)

// ContextRequest is an item's addresses (bare or "Name <address>") and,
// for an item that may have been shared, its ids.
type ContextRequest struct {
	// UserID, when set, records the matched contacts as viewed by the
	// user (for Recent), in one statement.
	UserID            int64
	Addresses         []string
	InternetMessageID string
	ICalUID           string
}

// ContextEntry is what the panel shows for one address.
type ContextEntry struct {
	Email              string
	Kind               string
	Contact            *models.Contact
	User               *models.User
	Account            *models.Account
	Opportunities      []models.Opportunity
	OpportunitiesTotal int
	Leads              []models.Lead
	LeadsTotal         int
	LastActivities     []models.Activity
	SuggestedName      string
}

// SharedItem says as which activity the item was already shared.
type SharedItem struct {
	ActivityID int64
	Type       string
}

// ContextResult is the whole pane's context.
type ContextResult struct {
	Entries []ContextEntry
	Shared  *SharedItem
}

type parsedAddr struct {
	email, name string
}

// ParseContextAddresses validates the addresses of a context request.
func ParseContextAddresses(raw []string) ([]parsedAddr, error) {
	if len(raw) == 0 {
		return nil, models.InvalidField("email", "at least one address is required")
	}
	if len(raw) > MaxContextAddresses {
		return nil, models.InvalidField("email", "at most 50 addresses are allowed")
	}
	out := make([]parsedAddr, 0, len(raw))
	seen := map[string]bool{}
	for _, r := range raw {
		if len(r) > 320 {
			return nil, models.InvalidField("email", "an address is too long")
		}
		a, err := mail.ParseAddress(strings.TrimSpace(r))
		if err != nil || !ValidEmail(a.Address) {
			return nil, models.InvalidField("email", "is not a valid email address: "+truncate(r, 80))
		}
		e := NormEmail(a.Address)
		if seen[e] {
			continue
		}
		seen[e] = true
		out = append(out, parsedAddr{email: e, name: strings.TrimSpace(a.Name)})
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Context resolves each address to a contact, a sales user or unknown,
// with the contact's account, open opportunities and leads and last
// activities. The number of queries is fixed (at most eight), whatever the
// number of addresses.
func (s *Service) Context(ctx context.Context, req ContextRequest) (*ContextResult, error) {
	addrs, err := ParseContextAddresses(req.Addresses)
	if err != nil {
		return nil, err
	}
	if len(req.InternetMessageID) > 998 {
		return nil, models.InvalidField("internetMessageId", "is too long")
	}
	if len(req.ICalUID) > 1024 {
		return nil, models.InvalidField("iCalUId", "is too long")
	}
	db := s.Store.DB(ctx)
	emails := make([]string, len(addrs))
	for i, a := range addrs {
		emails[i] = a.email
	}

	// 1. Contacts by email (the oldest live contact wins).
	var contacts []models.Contact
	if err := db.Where("email_norm IN ?", emails).Order("id").Find(&contacts).Error; err != nil {
		return nil, err
	}
	contactOf := map[string]*models.Contact{}
	for i := range contacts {
		if _, ok := contactOf[contacts[i].EmailNorm]; !ok {
			contactOf[contacts[i].EmailNorm] = &contacts[i]
		}
	}
	// 2. Sales users for the addresses without a contact.
	var users []models.User
	if err := db.Where("lower(email) IN ? AND active = ?", emails, true).Order("id").Find(&users).Error; err != nil {
		return nil, err
	}
	userOf := map[string]*models.User{}
	for i := range users {
		e := NormEmail(users[i].Email)
		if _, ok := userOf[e]; !ok {
			userOf[e] = &users[i]
		}
	}
	// 3. Accounts of the contacts.
	var accountIDs []int64
	var contactIDs []int64
	for _, c := range contactOf {
		contactIDs = append(contactIDs, c.ID)
		if c.AccountID != nil {
			accountIDs = append(accountIDs, *c.AccountID)
		}
	}
	accountOf := map[int64]*models.Account{}
	if len(accountIDs) > 0 {
		var accounts []models.Account
		if err := db.Where("id IN ?", accountIDs).Find(&accounts).Error; err != nil {
			return nil, err
		}
		for i := range accounts {
			accountOf[accounts[i].ID] = &accounts[i]
		}
	}

	res := &ContextResult{Entries: make([]ContextEntry, len(addrs))}
	for i, a := range addrs {
		e := ContextEntry{Email: a.email, Kind: KindUnknown}
		if c := contactOf[a.email]; c != nil {
			e.Kind, e.Contact = KindContact, c
			if c.AccountID != nil {
				e.Account = accountOf[*c.AccountID]
			}
		} else if u := userOf[a.email]; u != nil {
			e.Kind, e.User = KindUser, u
		} else {
			e.SuggestedName = SuggestName(a.name, a.email)
		}
		res.Entries[i] = e
	}

	if len(contactIDs) > 0 {
		if err := s.touchViewed(ctx, req.UserID, TypeContact, contactIDs); err != nil {
			return nil, err
		}
		if err := s.contextOpportunities(ctx, res, contactIDs, accountIDs); err != nil {
			return nil, err
		}
		if err := s.contextActivities(ctx, res, contactIDs); err != nil {
			return nil, err
		}
	}
	if err := s.contextLeads(ctx, res, emails, contactIDs); err != nil {
		return nil, err
	}
	if req.InternetMessageID != "" || req.ICalUID != "" {
		var act models.Activity
		q := db.Select("id, type_code")
		switch {
		case req.InternetMessageID != "" && req.ICalUID != "":
			q = q.Where("internet_message_id = ? OR ical_uid = ?", req.InternetMessageID, req.ICalUID)
		case req.InternetMessageID != "":
			q = q.Where("internet_message_id = ?", req.InternetMessageID)
		default:
			q = q.Where("ical_uid = ?", req.ICalUID)
		}
		r := q.Order("id").Limit(1).Find(&act)
		if r.Error != nil {
			return nil, r.Error
		}
		if r.RowsAffected > 0 {
			res.Shared = &SharedItem{ActivityID: act.ID, Type: act.TypeCode}
		}
	}
	return res, nil
}

// touchViewed records records of one type as viewed by the user, in one
// multi-row upsert whatever their number.
func (s *Service) touchViewed(ctx context.Context, userID int64, objectType string, ids []int64) error {
	if userID == 0 || len(ids) == 0 {
		return nil
	}
	now := s.now()
	rows := make([]models.RecentView, len(ids))
	for i, id := range ids {
		rows[i] = models.RecentView{UserID: userID, ObjectType: objectType, ObjectID: id, Action: ActionViewed, At: now}
	}
	return s.Store.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "object_type"}, {Name: "object_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"action", "at"}),
	}).CreateInBatches(rows, MaxContextAddresses).Error
}

// contextOpportunities loads the open opportunities of the contacts (on the
// contact or on its account) in one query, newest first, capped per contact.
func (s *Service) contextOpportunities(ctx context.Context, res *ContextResult, contactIDs, accountIDs []int64) error {
	if len(accountIDs) == 0 {
		accountIDs = []int64{0}
	}
	var opps []models.Opportunity
	err := s.Store.DB(ctx).Where("status = 'open' AND deleted_at IS NULL AND (contact_id IN ? OR account_id IN ?)", contactIDs, accountIDs).
		Order("updated_at DESC, id DESC").Limit(2000).Find(&opps).Error
	if err != nil {
		return err
	}
	for i := range res.Entries {
		e := &res.Entries[i]
		if e.Contact == nil {
			continue
		}
		for _, o := range opps {
			if (o.ContactID != nil && *o.ContactID == e.Contact.ID) ||
				(o.AccountID != nil && e.Contact.AccountID != nil && *o.AccountID == *e.Contact.AccountID) {
				e.OpportunitiesTotal++
				if len(e.Opportunities) < contextOpportunities {
					e.Opportunities = append(e.Opportunities, o)
				}
			}
		}
	}
	return nil
}

// contextLeads loads the open leads of the addresses (by contact or email).
func (s *Service) contextLeads(ctx context.Context, res *ContextResult, emails []string, contactIDs []int64) error {
	if len(contactIDs) == 0 {
		contactIDs = []int64{0}
	}
	var leads []models.Lead
	err := s.Store.DB(ctx).Where("status = 'open' AND deleted_at IS NULL AND (email_norm IN ? OR contact_id IN ?)", emails, contactIDs).
		Order("updated_at DESC, id DESC").Limit(2000).Find(&leads).Error
	if err != nil {
		return err
	}
	for i := range res.Entries {
		e := &res.Entries[i]
		for _, l := range leads {
			if l.EmailNorm == e.Email || (e.Contact != nil && l.ContactID != nil && *l.ContactID == e.Contact.ID) {
				e.LeadsTotal++
				if len(e.Leads) < contextLeads {
					e.Leads = append(e.Leads, l)
				}
			}
		}
	}
	return nil
}

// contextActivities loads the last activities each contact took part in
// (one query for the pairs, one for the activities).
func (s *Service) contextActivities(ctx context.Context, res *ContextResult, contactIDs []int64) error {
	db := s.Store.DB(ctx)
	type pair struct {
		ContactID  int64
		ActivityID int64
		Rn         int
	}
	var pairs []pair
	// The window ranks each contact's activities by recency so that the
	// result stays small however busy a contact is.
	err := db.Raw(`SELECT contact_id, activity_id, rn FROM (
	    SELECT p.contact_id, p.activity_id,
	           ROW_NUMBER() OVER (PARTITION BY p.contact_id ORDER BY COALESCE(a.start_at, a.created_at) DESC, a.id DESC) AS rn
	    FROM (SELECT DISTINCT contact_id, activity_id FROM activity_participants WHERE contact_id IN ?) p
	    JOIN activities a ON a.id = p.activity_id AND a.deleted_at IS NULL
	) ranked WHERE rn <= ? ORDER BY contact_id, rn`, contactIDs, contextActivities).Scan(&pairs).Error
	if err != nil {
		return err
	}
	if len(pairs) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(pairs))
	for _, p := range pairs {
		ids = append(ids, p.ActivityID)
	}
	var acts []models.Activity
	if err := db.Omit("body_html", "body_text").Select("id, type_code, subtype, subject, start_at, end_at, due_at, status, owner_id, location, created_at, updated_at, version, origin, private").
		Where("id IN ?", ids).Find(&acts).Error; err != nil {
		return err
	}
	byID := map[int64]models.Activity{}
	for _, a := range acts {
		byID[a.ID] = a
	}
	for i := range res.Entries {
		e := &res.Entries[i]
		if e.Contact == nil {
			continue
		}
		for _, p := range pairs {
			if p.ContactID == e.Contact.ID {
				if a, ok := byID[p.ActivityID]; ok {
					e.LastActivities = append(e.LastActivities, a)
				}
			}
		}
		sort.SliceStable(e.LastActivities, func(x, y int) bool {
			return activityTime(e.LastActivities[x]).After(activityTime(e.LastActivities[y]))
		})
	}
	return nil
}

// activityTime is when an activity happened: its start, else its creation.
func activityTime(a models.Activity) time.Time {
	if a.StartAt != nil {
		return *a.StartAt
	}
	return a.CreatedAt
}

// SuggestName proposes a contact name for an unknown address: the display
// name of the email, else the local part split at dots, dashes and
// underscores ("jane.doe@x" → "Jane Doe").
func SuggestName(display, email string) string {
	display = strings.Trim(strings.TrimSpace(display), `"'`)
	if display != "" && !strings.Contains(display, "@") {
		if last, first, ok := strings.Cut(display, ","); ok && !strings.Contains(first, ",") {
			return strings.TrimSpace(first) + " " + strings.TrimSpace(last)
		}
		return display
	}
	local, _, _ := strings.Cut(email, "@")
	local, _, _ = strings.Cut(local, "+")
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' || unicode.IsDigit(r) })
	for i, p := range parts {
		r := []rune(p)
		r[0] = unicode.ToUpper(r[0])
		parts[i] = string(r)
	}
	return strings.Join(parts, " ")
}
