package share

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// View is an activity with what the API shows next to it. A private
// activity seen by someone who neither owns nor shared it is masked.
type View struct {
	Activity     models.Activity
	Participants []models.ActivityParticipant
	Associations []models.ActivityAssociation
	Shares       []models.ActivityShare
	Attachments  []Attachment
	Masked       bool
}

func (s *Service) view(ctx context.Context, viewerID int64, act *models.Activity) (*View, error) {
	vs, err := s.views(ctx, viewerID, []models.Activity{*act})
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

// views loads participants, associations and owner links of many
// activities in three queries.
func (s *Service) views(ctx context.Context, viewerID int64, acts []models.Activity) ([]*View, error) {
	out := make([]*View, len(acts))
	if len(acts) == 0 {
		return out, nil
	}
	ids := make([]int64, len(acts))
	idx := map[int64]int{}
	for i := range acts {
		ids[i] = acts[i].ID
		idx[acts[i].ID] = i
		v := &View{Activity: acts[i]}
		var ex extra
		_ = json.Unmarshal([]byte(acts[i].Extra), &ex)
		v.Attachments = ex.Attachments
		out[i] = v
	}
	db := s.Store.DB(ctx)
	var parts []models.ActivityParticipant
	if err := db.Where("activity_id IN ?", ids).Order("id").Find(&parts).Error; err != nil {
		return nil, err
	}
	for _, p := range parts {
		v := out[idx[p.ActivityID]]
		v.Participants = append(v.Participants, p)
	}
	var assocs []models.ActivityAssociation
	if err := db.Where("activity_id IN ?", ids).Order("id").Find(&assocs).Error; err != nil {
		return nil, err
	}
	for _, a := range assocs {
		v := out[idx[a.ActivityID]]
		v.Associations = append(v.Associations, a)
	}
	var shares []models.ActivityShare
	if err := db.Where("activity_id IN ?", ids).Order("id").Find(&shares).Error; err != nil {
		return nil, err
	}
	for _, sh := range shares {
		v := out[idx[sh.ActivityID]]
		v.Shares = append(v.Shares, sh)
	}
	for _, v := range out {
		if v.Activity.Private && !v.canEdit(viewerID) {
			v.mask()
		}
	}
	return out, nil
}

func (v *View) canEdit(userID int64) bool {
	if v.Activity.OwnerID == userID {
		return true
	}
	for _, sh := range v.Shares {
		if sh.UserID == userID {
			return true
		}
	}
	return false
}

func (v *View) mask() {
	v.Masked = true
	v.Activity.Subject = "Private appointment"
	v.Activity.BodyHTML, v.Activity.BodyText, v.Activity.Location = "", "", ""
	v.Participants = nil
	v.Attachments = nil
}

// Get returns one activity.
func (s *Service) Get(ctx context.Context, viewerID, id int64) (*View, error) {
	var act models.Activity
	if err := s.Store.DB(ctx).First(&act, id).Error; err != nil {
		return nil, models.MapErr(err)
	}
	return s.view(ctx, viewerID, &act)
}

// ListQuery filters GET /activities.
type ListQuery struct {
	Type        string
	RelatedType string
	RelatedID   int64
	Cursor      string
	Limit       int
}

// Page is one page of activities, newest first.
type Page struct {
	Items      []*View
	NextCursor string
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a:" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(string(b), "a:"), 10, 64)
	if err != nil || !strings.HasPrefix(string(b), "a:") || n <= 0 {
		return 0, false
	}
	return n, true
}

// List pages through activities, optionally of one type and associated
// with one record.
func (s *Service) List(ctx context.Context, viewerID int64, q ListQuery) (*Page, error) {
	fields := map[string]string{}
	if q.Limit == 0 {
		q.Limit = 25
	}
	if q.Limit < 1 || q.Limit > 100 {
		fields["limit"] = "must be between 1 and 100"
	}
	if (q.RelatedType == "") != (q.RelatedID == 0) {
		fields["relatedId"] = "relatedType and relatedId go together"
	}
	if q.RelatedType != "" && !validObjectType(q.RelatedType) {
		fields["relatedType"] = "must be one of account, contact, lead, opportunity"
	}
	var after int64
	if q.Cursor != "" {
		var ok bool
		if after, ok = decodeCursor(q.Cursor); !ok {
			fields["cursor"] = "is not a cursor returned by this endpoint"
		}
	}
	if len(fields) > 0 {
		return nil, models.Invalid(fields)
	}
	db := s.Store.DB(ctx).Model(&models.Activity{})
	if q.Type != "" {
		db = db.Where("type_code = ?", strings.ToUpper(q.Type))
	}
	if q.RelatedType != "" {
		db = db.Where("id IN (SELECT activity_id FROM activity_associations WHERE object_type = ? AND object_id = ?)", q.RelatedType, q.RelatedID)
	}
	if after > 0 {
		db = db.Where("id < ?", after)
	}
	var acts []models.Activity
	if err := db.Order("id DESC").Limit(q.Limit + 1).Find(&acts).Error; err != nil {
		return nil, err
	}
	p := &Page{}
	if len(acts) > q.Limit {
		acts = acts[:q.Limit]
		p.NextCursor = encodeCursor(acts[len(acts)-1].ID)
	}
	var err error
	p.Items, err = s.views(ctx, viewerID, acts)
	return p, err
}

// PatchInput changes an activity; nil fields stay. Associations, when
// given, replace the whole set.
type PatchInput struct {
	Subject      *string
	Subtype      *string
	Importance   *string
	Associations *[]Association
}

// Patch edits an activity: its owner, a user who shared it, or an
// administrator may.
func (s *Service) Patch(ctx context.Context, userID int64, admin bool, id int64, in PatchInput) (*View, error) {
	var out *View
	err := s.Store.Tx(ctx, func(ctx context.Context) error {
		db := s.Store.DB(ctx)
		var act models.Activity
		if err := db.Clauses(lockingClause(s.Store)...).First(&act, id).Error; err != nil {
			return models.MapErr(err)
		}
		v, err := s.view(ctx, userID, &act)
		if err != nil {
			return err
		}
		if !admin && !v.canEdit(userID) {
			return models.Errorf(models.CodePermissionDenied, "Only the owner of this activity, a user who shared it, or an administrator may edit it.")
		}
		fields := map[string]string{}
		var assocs []Association
		if in.Subject != nil {
			act.Subject = *in.Subject
		}
		if in.Importance != nil {
			act.Importance = *in.Importance
		}
		if in.Associations != nil {
			assocs = *in.Associations
		} else {
			for _, a := range v.Associations {
				assocs = append(assocs, Association{Type: a.ObjectType, ID: a.ObjectID})
			}
		}
		checkCommon(fields, act.Subject, act.Importance, assocs, nil, 0)
		if len(fields) > 0 {
			return models.Invalid(fields)
		}
		if in.Subtype != nil {
			var typ models.ActivityType
			if err := db.Where("code = ?", act.TypeCode).First(&typ).Error; err != nil {
				return err
			}
			if err := checkSubtype(&typ, *in.Subtype); err != nil {
				return err
			}
			act.Subtype = *in.Subtype
		}
		if in.Associations != nil {
			if assocs, err = s.checkAssociations(ctx, assocs); err != nil {
				return err
			}
		}
		if layout := layoutOf(act.TypeCode); layout != "" {
			st, err := settings.Load(ctx, s.Store)
			if err != nil {
				return err
			}
			if st.AdvancedSharingMode {
				if err := s.checkMandatory(ctx, layout, &act, assocs); err != nil {
					return err
				}
			}
		}
		now := s.now()
		act.UpdatedAt = now
		if err := db.Save(&act).Error; err != nil {
			return err
		}
		if in.Associations != nil {
			keep := map[Association]bool{}
			for _, a := range assocs {
				keep[a] = true
			}
			for _, a := range v.Associations {
				if !keep[Association{Type: a.ObjectType, ID: a.ObjectID}] {
					if err := db.Delete(&models.ActivityAssociation{}, a.ID).Error; err != nil {
						return err
					}
				}
			}
			if err := s.addAssociations(ctx, act.ID, userID, assocs, now); err != nil {
				return err
			}
		}
		out, err = s.view(ctx, userID, &act)
		return err
	})
	return out, err
}

func lockingClause(s *models.Store) []clause.Expression {
	if s.Dialect() == models.Postgres {
		return []clause.Expression{clause.Locking{Strength: "UPDATE"}}
	}
	return nil
}

func layoutOf(typeCode string) string {
	switch typeCode {
	case models.ActivityEmail:
		return models.LayoutEmail
	case models.ActivityAppointment:
		return models.LayoutAppointment
	}
	return ""
}
