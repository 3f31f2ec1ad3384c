package share

import (
	"context"

	"github.com/salesbridge/salesbridge/models"
)

type participant struct {
	Role    string
	Address Address
}

// resolvedParticipant is a participant matched to a contact and/or a sales
// user; unknown addresses keep neither and stay bare participants.
type resolvedParticipant struct {
	participant
	Norm      string
	ContactID *int64
	AccountID *int64
	UserID    *int64
}

// resolve matches every address by normalised email in three queries
// whatever the number of addresses: contacts, sales users, and sales users
// by their Microsoft mailbox.
func (s *Service) resolve(ctx context.Context, parts []participant) ([]resolvedParticipant, error) {
	out := make([]resolvedParticipant, 0, len(parts))
	var norms []string
	seen := map[string]bool{}
	for _, p := range parts {
		n := NormEmail(p.Address.Email)
		out = append(out, resolvedParticipant{participant: p, Norm: n})
		if !seen[n] {
			seen[n] = true
			norms = append(norms, n)
		}
	}
	if len(norms) == 0 {
		return out, nil
	}
	db := s.Store.DB(ctx)
	var contacts []struct {
		ID        int64
		AccountID *int64
		EmailNorm string
	}
	// The most recently changed contact wins when several share an email.
	if err := db.Table("contacts").Select("id, account_id, email_norm").
		Where("email_norm IN ? AND deleted_at IS NULL", norms).Order("updated_at DESC, id DESC").
		Scan(&contacts).Error; err != nil {
		return nil, err
	}
	contactOf := map[string]int{}
	for i, c := range contacts {
		if _, ok := contactOf[c.EmailNorm]; !ok {
			contactOf[c.EmailNorm] = i
		}
	}
	var users []struct {
		ID   int64
		Norm string
	}
	if err := db.Raw(`SELECT id, lower(email) AS norm FROM users WHERE lower(email) IN ? AND active
		UNION SELECT m.user_id AS id, m.ms_email_norm AS norm FROM user_mappings m JOIN users u ON u.id = m.user_id
		WHERE m.ms_email_norm IN ? AND u.active`, norms, norms).Scan(&users).Error; err != nil {
		return nil, err
	}
	userOf := map[string]int64{}
	for _, u := range users {
		if old, ok := userOf[u.Norm]; !ok || u.ID < old {
			userOf[u.Norm] = u.ID
		}
	}
	for i := range out {
		if ci, ok := contactOf[out[i].Norm]; ok {
			c := contacts[ci]
			out[i].ContactID = &c.ID
			out[i].AccountID = c.AccountID
		}
		if uid, ok := userOf[out[i].Norm]; ok {
			out[i].UserID = &uid
		}
	}
	return out, nil
}

func (s *Service) insertParticipants(ctx context.Context, activityID int64, parts []resolvedParticipant) error {
	rows := make([]models.ActivityParticipant, 0, len(parts))
	seen := map[[2]string]bool{}
	for _, p := range parts {
		k := [2]string{p.Role, p.Norm}
		if seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, models.ActivityParticipant{ActivityID: activityID, Role: p.Role,
			ContactID: p.ContactID, UserID: p.UserID, Email: p.Norm, Name: p.Address.Name})
	}
	if len(rows) == 0 {
		return nil
	}
	return s.Store.DB(ctx).CreateInBatches(&rows, 200).Error
}

// defaultAssociations are the sender's (or organizer's) contact and its
// account; when the sender is a colleague, the first external participant
// known as a contact stands in.
func defaultAssociations(parts []resolvedParticipant) []Association {
	var pick *resolvedParticipant
	for i := range parts {
		p := &parts[i]
		if p.ContactID == nil {
			continue
		}
		if p.Role == RoleFrom || p.Role == RoleOrganizer {
			pick = p
			break
		}
		if pick == nil && p.UserID == nil {
			pick = p
		}
	}
	if pick == nil {
		return nil
	}
	out := []Association{{Type: models.ObjectContact, ID: *pick.ContactID}}
	if pick.AccountID != nil {
		out = append(out, Association{Type: models.ObjectAccount, ID: *pick.AccountID})
	}
	return out
}
