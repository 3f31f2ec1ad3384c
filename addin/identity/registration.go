package identity

import (
	"context"
	"regexp"
	"strings"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/models"
)

// RegistrationUpdate is what an administrator sets. A nil key keeps the
// stored one.
type RegistrationUpdate struct {
	ApplicationID  string
	ApplicationKey *string
	Name           string
}

const registrationAAD = "registration:1"

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Registration returns the stored registration (zero when none).
func (s *Service) Registration(ctx context.Context) (models.Registration, error) {
	var r models.Registration
	res := s.Store.DB(ctx).Where("id = 1").Limit(1).Find(&r)
	return r, res.Error
}

// SetRegistration validates and stores the registration, the key
// encrypted. It runs in the transaction of ctx and is audited.
func (s *Service) SetRegistration(ctx context.Context, actor int64, u RegistrationUpdate) (models.Registration, error) {
	fields := map[string]string{}
	u.ApplicationID = strings.TrimSpace(u.ApplicationID)
	u.Name = strings.TrimSpace(u.Name)
	if !guidRe.MatchString(u.ApplicationID) {
		fields["applicationId"] = "must be the Application (client) ID, a GUID like 00000000-0000-0000-0000-000000000000"
	}
	if u.Name == "" || len(u.Name) > 128 {
		fields["name"] = "is required (1–128 characters)"
	}
	cur, err := s.Registration(ctx)
	if err != nil {
		return cur, err
	}
	if u.ApplicationKey != nil {
		k := strings.TrimSpace(*u.ApplicationKey)
		if k == "" || len(k) > 1024 {
			fields["applicationKey"] = "must be the client secret's value (1–1024 characters)"
		}
		u.ApplicationKey = &k
	} else if len(cur.ApplicationKeyEnc) == 0 {
		fields["applicationKey"] = "is required the first time the add-in is registered"
	}
	if len(fields) > 0 {
		return cur, models.Invalid(fields)
	}
	next := models.Registration{ID: 1, ApplicationID: u.ApplicationID, Name: u.Name, ApplicationKeyEnc: cur.ApplicationKeyEnc, UpdatedAt: s.now()}
	if actor != 0 {
		next.UpdatedBy = &actor
	}
	if u.ApplicationKey != nil {
		if next.ApplicationKeyEnc, err = s.Keys.Seal([]byte(*u.ApplicationKey), registrationAAD); err != nil {
			return cur, err
		}
	}
	if err := s.Store.DB(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, UpdateAll: true}).Create(&next).Error; err != nil {
		return cur, err
	}
	keyNote := "key unchanged"
	if u.ApplicationKey != nil {
		keyNote = "key replaced"
	}
	if err := s.audit(ctx, actor, "registration.update", "registration",
		cur.ApplicationID+" "+cur.Name, next.ApplicationID+" "+next.Name+" ("+keyNote+")"); err != nil {
		return next, err
	}
	return next, nil
}

// credentials returns the application id and the decrypted client secret,
// or ErrNotRegistered.
func (s *Service) credentials(ctx context.Context) (string, string, error) {
	r, err := s.Registration(ctx)
	if err != nil {
		return "", "", err
	}
	if r.ApplicationID == "" || len(r.ApplicationKeyEnc) == 0 {
		return "", "", ErrNotRegistered
	}
	key, err := s.Keys.Open(r.ApplicationKeyEnc, registrationAAD)
	if err != nil {
		return "", "", models.Internal(err)
	}
	return r.ApplicationID, string(key), nil
}
