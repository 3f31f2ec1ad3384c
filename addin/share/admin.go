package share

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// Fields an administrator can make mandatory for shares, per object.
var layoutFields = map[string][]string{
	models.LayoutEmail:       {"subject", "subtype", "body", "account", "contact", "lead", "opportunity"},
	models.LayoutAppointment: {"subject", "subtype", "body", "location", "account", "contact", "lead", "opportunity"},
}

// LayoutFields lists the fields that can be mandatory for an object.
func LayoutFields(object string) ([]string, bool) {
	f, ok := layoutFields[object]
	return f, ok
}

// Layout is the mandatory field list of one object.
type Layout struct {
	Object          string
	MandatoryFields []string
	Available       []string
}

// GetLayout returns the mandatory fields of shared emails or appointments.
func (s *Service) GetLayout(ctx context.Context, object string) (*Layout, error) {
	avail, ok := layoutFields[object]
	if !ok {
		return nil, models.NotFound("layout")
	}
	var row models.ShareLayout
	res := s.Store.DB(ctx).Where("object_type = ?", object).Limit(1).Find(&row)
	if res.Error != nil {
		return nil, res.Error
	}
	l := &Layout{Object: object, MandatoryFields: []string{}, Available: avail}
	if res.RowsAffected > 0 {
		_ = json.Unmarshal([]byte(row.MandatoryFields), &l.MandatoryFields)
	}
	return l, nil
}

// Requirements tells the pane which fields a share of object must carry
// before it is sent: the layout, and whether Advanced Sharing Mode enforces
// it.
func (s *Service) Requirements(ctx context.Context, object string) (*Layout, bool, error) {
	l, err := s.GetLayout(ctx, object)
	if err != nil {
		return nil, false, err
	}
	st, err := settings.Load(ctx, s.Store)
	if err != nil {
		return nil, false, err
	}
	if !st.AdvancedSharingMode {
		l.MandatoryFields = []string{}
	}
	return l, st.AdvancedSharingMode, nil
}

// PutLayout replaces the mandatory fields of an object.
func (s *Service) PutLayout(ctx context.Context, actorID int64, object string, fields []string) (*Layout, error) {
	avail, ok := layoutFields[object]
	if !ok {
		return nil, models.NotFound("layout")
	}
	bad := map[string]string{}
	clean := []string{}
	for i, f := range fields {
		if !slices.Contains(avail, f) {
			bad[fmt.Sprintf("mandatoryFields[%d]", i)] = "must be one of " + strings.Join(avail, ", ")
			continue
		}
		if !slices.Contains(clean, f) {
			clean = append(clean, f)
		}
	}
	if len(bad) > 0 {
		return nil, models.Invalid(bad)
	}
	var out *Layout
	err := s.Store.Tx(ctx, func(ctx context.Context) error {
		old, err := s.GetLayout(ctx, object)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(clean)
		now := s.now()
		if err := s.Store.DB(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "object_type"}},
			DoUpdates: clause.AssignmentColumns([]string{"mandatory_fields", "updated_at", "updated_by"}),
		}).Create(&models.ShareLayout{ObjectType: object, MandatoryFields: string(b), UpdatedAt: now, UpdatedBy: &actorID}).Error; err != nil {
			return err
		}
		ob, _ := json.Marshal(old.MandatoryFields)
		if err := s.audit(ctx, actorID, "share.layout.update", object, string(ob), string(b)); err != nil {
			return err
		}
		out = &Layout{Object: object, MandatoryFields: clean, Available: avail}
		return nil
	})
	return out, err
}

func (s *Service) audit(ctx context.Context, actorID int64, action, target, oldV, newV string) error {
	return s.Store.DB(ctx).Create(&models.AuditEntry{ActorID: &actorID, Action: action, Target: target,
		OldValue: oldV, NewValue: newV, At: s.now()}).Error
}

// checkMandatory refuses a share or edit missing a field the layout makes
// mandatory (Advanced Sharing Mode), naming every missing field.
func (s *Service) checkMandatory(ctx context.Context, object string, act *models.Activity, assocs []Association) error {
	l, err := s.GetLayout(ctx, object)
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, a := range assocs {
		has[a.Type] = true
	}
	missing := map[string]string{}
	for _, f := range l.MandatoryFields {
		ok := true
		switch f {
		case "subject":
			ok = strings.TrimSpace(act.Subject) != ""
		case "subtype":
			ok = act.Subtype != ""
		case "body":
			ok = strings.TrimSpace(act.BodyText) != "" || strings.TrimSpace(act.BodyHTML) != ""
		case "location":
			ok = strings.TrimSpace(act.Location) != ""
		case models.ObjectAccount, models.ObjectContact, models.ObjectLead, models.ObjectOpportunity:
			if !has[f] {
				missing["associations."+f] = "is mandatory: associate " + article(f) + " " + f
			}
			continue
		}
		if !ok {
			missing[f] = "is mandatory for shared " + object + "s"
		}
	}
	if len(missing) > 0 {
		e := models.Invalid(missing)
		e.Message = "Advanced sharing mode: fill in the mandatory fields before sharing."
		return e
	}
	return nil
}

func article(w string) string {
	if strings.ContainsRune("aeiou", rune(w[0])) {
		return "an"
	}
	return "a"
}

// TypeUpdate changes an activity type; nil fields stay.
type TypeUpdate struct {
	Name     *string
	Enabled  *bool
	Subtypes *[]string
}

// ListTypes lists the activity types.
func (s *Service) ListTypes(ctx context.Context) ([]models.ActivityType, error) {
	var out []models.ActivityType
	err := s.Store.DB(ctx).Order("code").Find(&out).Error
	return out, err
}

// UpdateType enables, disables or renames an activity type, or sets its
// subtypes (Manage Activity Type and Subtype).
func (s *Service) UpdateType(ctx context.Context, actorID int64, code string, in TypeUpdate) (*models.ActivityType, error) {
	var out models.ActivityType
	err := s.Store.Tx(ctx, func(ctx context.Context) error {
		db := s.Store.DB(ctx)
		if err := db.Where("code = ?", strings.ToUpper(code)).First(&out).Error; err != nil {
			return models.MapErr(err)
		}
		before, _ := json.Marshal(out)
		fields := map[string]string{}
		if in.Name != nil {
			n := strings.TrimSpace(*in.Name)
			if n == "" || len(n) > 100 {
				fields["name"] = "must be 1 to 100 characters"
			}
			out.Name = n
		}
		if in.Enabled != nil {
			out.Enabled = *in.Enabled
		}
		if in.Subtypes != nil {
			subs := []string{}
			for i, st := range *in.Subtypes {
				st = strings.TrimSpace(st)
				if st == "" || len(st) > 100 {
					fields[fmt.Sprintf("subtypes[%d]", i)] = "must be 1 to 100 characters"
				}
				if !slices.Contains(subs, st) {
					subs = append(subs, st)
				}
			}
			b, _ := json.Marshal(subs)
			out.Subtypes = string(b)
		}
		if len(fields) > 0 {
			return models.Invalid(fields)
		}
		out.UpdatedAt = s.now()
		if err := db.Save(&out).Error; err != nil {
			return err
		}
		after, _ := json.Marshal(out)
		return s.audit(ctx, actorID, "activity_type.update", out.Code, string(before), string(after))
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Subtypes decodes an activity type's subtype list.
func Subtypes(t *models.ActivityType) []string {
	out := []string{}
	_ = json.Unmarshal([]byte(t.Subtypes), &out)
	return out
}
