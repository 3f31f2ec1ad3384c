package identity

import (
	"context"
	"net/mail"
	"strconv"
	"strings"

	"github.com/salesbridge/salesbridge/models"
)

// MappingView is a user mapping with its sales user, as administrators see
// it.
type MappingView struct {
	models.UserMapping
	Username    string
	DisplayName string
	UserActive  bool
}

// MappingPage is one page of mappings.
type MappingPage struct {
	Items      []MappingView
	NextCursor string
}

const mappingCols = `m.id, m.user_id, m.ms_email, m.ms_email_norm, m.ms_object_id, m.ms_tenant_id, m.ms_home_account_id, m.authorized, m.auth_error,
	m.sync_state, m.last_connect_at, m.created_at, m.updated_at, u.username, u.display_name, u.active AS user_active`

// ListMappings pages through mappings by id, filtered by text over the
// Microsoft email, the username and the display name.
func (s *Service) ListMappings(ctx context.Context, q string, limit int, cursor string) (*MappingPage, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > 200 {
		return nil, models.InvalidField("limit", "must be between 1 and 200")
	}
	var after int64
	if cursor != "" {
		v, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || v < 0 {
			return nil, models.InvalidField("cursor", "is not a cursor returned by this endpoint")
		}
		after = v
	}
	if len(q) > 200 {
		return nil, models.InvalidField("q", "must be at most 200 characters")
	}
	tx := s.Store.DB(ctx).Table("user_mappings m").Select(mappingCols).Joins("JOIN users u ON u.id = m.user_id").Where("m.id > ?", after)
	if q = strings.ToLower(strings.TrimSpace(q)); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
		tx = tx.Where(`(m.ms_email_norm LIKE ? ESCAPE '\' OR lower(u.username) LIKE ? ESCAPE '\' OR lower(u.display_name) LIKE ? ESCAPE '\')`, like, like, like)
	}
	var rows []MappingView
	if err := tx.Order("m.id").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, err
	}
	page := &MappingPage{Items: rows}
	if len(rows) > limit {
		page.Items = rows[:limit]
		page.NextCursor = strconv.FormatInt(rows[limit-1].ID, 10)
	}
	return page, nil
}

// GetMapping returns one mapping.
func (s *Service) GetMapping(ctx context.Context, id int64) (*MappingView, error) {
	var rows []MappingView
	if err := s.Store.DB(ctx).Table("user_mappings m").Select(mappingCols).Joins("JOIN users u ON u.id = m.user_id").
		Where("m.id = ?", id).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, models.NotFound("user mapping")
	}
	return &rows[0], nil
}

// MappingOf returns the mapping of a sales user, nil when unmapped.
func (s *Service) MappingOf(ctx context.Context, uid int64) (*models.UserMapping, error) {
	var m models.UserMapping
	res := s.Store.DB(ctx).Where("user_id = ?", uid).Limit(1).Find(&m)
	if res.Error != nil || res.RowsAffected == 0 {
		return nil, res.Error
	}
	return &m, nil
}

// MappingUpdate changes either side of a mapping; nil leaves it.
type MappingUpdate struct {
	MSEmail *string
	UserID  *int64
}

// UpdateMapping lets an administrator change the Microsoft email and/or the
// sales user of a mapping. A changed side drops the stored Microsoft tokens
// (they belong to the old pairing) and marks the mapping not authorized
// until the user connects again; the old sales user's sessions end.
func (s *Service) UpdateMapping(ctx context.Context, actor, id int64, u MappingUpdate) (*MappingView, error) {
	cur, err := s.GetMapping(ctx, id)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	upd := map[string]any{}
	changed := false
	if u.MSEmail != nil {
		e := strings.TrimSpace(*u.MSEmail)
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
			fields["msEmail"] = "must be an email address"
		} else if NormEmail(e) != cur.MSEmailNorm {
			upd["ms_email"], upd["ms_email_norm"] = e, NormEmail(e)
			changed = true
		} else if e != cur.MSEmail {
			upd["ms_email"] = e
		}
	}
	if u.UserID != nil && *u.UserID != cur.UserID {
		var target models.User
		res := s.Store.DB(ctx).Where("id = ?", *u.UserID).Limit(1).Find(&target)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 {
			fields["userId"] = "is not a sales user"
		} else {
			upd["user_id"] = target.ID
			changed = true
		}
	}
	if len(fields) > 0 {
		return nil, models.Invalid(fields)
	}
	if len(upd) == 0 {
		return cur, nil
	}
	now := s.now()
	upd["updated_at"] = now
	if changed {
		upd["ms_object_id"], upd["ms_tenant_id"], upd["ms_home_account_id"] = "", "", ""
		upd["authorized"], upd["auth_error"] = false, "mapping changed by an administrator; the user must connect again"
		if err := s.dropUserTokens(ctx, cur.UserID); err != nil {
			return nil, err
		}
	}
	if err := s.Store.DB(ctx).Model(&models.UserMapping{}).Where("id = ?", id).Updates(upd).Error; err != nil {
		if models.ErrorCode(models.MapErr(err)) == models.CodeConflict {
			return nil, models.Errorf(models.CodeConflict, "Another mapping already uses this Microsoft email or sales user; update or delete that one first.")
		}
		return nil, err
	}
	next, err := s.GetMapping(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, "mapping.update", "user_mapping:"+strconv.FormatInt(id, 10),
		cur.MSEmail+" ↔ user "+strconv.FormatInt(cur.UserID, 10), next.MSEmail+" ↔ user "+strconv.FormatInt(next.UserID, 10)); err != nil {
		return nil, err
	}
	return next, nil
}

// DeleteMapping removes a mapping, the user's token cache and sessions;
// the sales user stays active and the next connect maps afresh.
func (s *Service) DeleteMapping(ctx context.Context, actor, id int64) error {
	cur, err := s.GetMapping(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Store.DB(ctx).Where("id = ?", id).Delete(&models.UserMapping{}).Error; err != nil {
		return err
	}
	if err := s.dropUserTokens(ctx, cur.UserID); err != nil {
		return err
	}
	return s.audit(ctx, actor, "mapping.delete", "user_mapping:"+strconv.FormatInt(id, 10),
		cur.MSEmail+" ↔ user "+strconv.FormatInt(cur.UserID, 10), "")
}

func (s *Service) dropUserTokens(ctx context.Context, uid int64) error {
	if err := s.Store.DB(ctx).Where("user_id = ?", uid).Delete(&models.TokenCache{}).Error; err != nil {
		return err
	}
	return s.Sessions.RevokeUser(ctx, uid)
}
