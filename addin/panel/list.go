package panel

import (
	"context"

	"github.com/salesbridge/salesbridge/models"
)

// ListFilter narrows a record list. Zero values do not filter.
type ListFilter struct {
	OwnerID   *int64
	AccountID *int64
	ContactID *int64
	Email     string
	Status    string
	Limit     int
	Cursor    string
}

// Page is one page of a list, newest first.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

type idCursor struct {
	ID int64 `json:"id"`
}

// MaxListLimit bounds list pages.
const MaxListLimit = 100

// filterable says which filters each type supports.
var filterable = map[string]struct{ account, contact, email, status bool }{
	TypeAccount:     {},
	TypeContact:     {account: true, email: true},
	TypeLead:        {account: true, contact: true, email: true, status: true},
	TypeOpportunity: {account: true, contact: true, status: true},
}

// list pages through live records of one type by descending id.
func list[T any](ctx context.Context, s *Service, objectType string, f ListFilter, idOf func(*T) int64) (Page[T], error) {
	var out Page[T]
	limit := f.Limit
	if limit <= 0 {
		limit = 25
	}
	q := s.Store.DB(ctx).Table(tableOf[objectType]).Where("deleted_at IS NULL")
	if f.Cursor != "" {
		var c idCursor
		if err := decodeCursor(f.Cursor, &c); err != nil {
			return out, err
		}
		q = q.Where("id < ?", c.ID)
	}
	can := filterable[objectType]
	if f.OwnerID != nil {
		q = q.Where("owner_id = ?", *f.OwnerID)
	}
	if f.AccountID != nil && can.account {
		q = q.Where("account_id = ?", *f.AccountID)
	}
	if f.ContactID != nil && can.contact {
		q = q.Where("contact_id = ?", *f.ContactID)
	}
	if f.Email != "" && can.email {
		q = q.Where("email_norm = ?", NormEmail(f.Email))
	}
	if f.Status != "" && can.status {
		q = q.Where("status = ?", f.Status)
	}
	var rows []T
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return out, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = encodeCursor(idCursor{ID: idOf(&rows[len(rows)-1])})
	}
	out.Items = rows
	return out, nil
}

// ListContacts pages through contacts.
func (s *Service) ListContacts(ctx context.Context, f ListFilter) (Page[models.Contact], error) {
	return list(ctx, s, TypeContact, f, func(r *models.Contact) int64 { return r.ID })
}

// ListAccounts pages through accounts.
func (s *Service) ListAccounts(ctx context.Context, f ListFilter) (Page[models.Account], error) {
	return list(ctx, s, TypeAccount, f, func(r *models.Account) int64 { return r.ID })
}

// ListLeads pages through leads.
func (s *Service) ListLeads(ctx context.Context, f ListFilter) (Page[models.Lead], error) {
	return list(ctx, s, TypeLead, f, func(r *models.Lead) int64 { return r.ID })
}

// ListOpportunities pages through opportunities.
func (s *Service) ListOpportunities(ctx context.Context, f ListFilter) (Page[models.Opportunity], error) {
	return list(ctx, s, TypeOpportunity, f, func(r *models.Opportunity) int64 { return r.ID })
}
