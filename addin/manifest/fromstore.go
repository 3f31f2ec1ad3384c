package manifest

import (
	"context"
	"sort"
	"strings"

	"github.com/salesbridge/salesbridge/models"
)

// FromStore builds the manifest Input from the stored add-in registration
// and the server's public URL. What is missing to build a manifest gives
// a precondition_failed error naming each field to fill in.
func FromStore(ctx context.Context, s *models.Store, publicURL string) (Input, error) {
	var reg models.Registration
	if err := s.DB(ctx).Where("id = 1").Limit(1).Find(&reg).Error; err != nil {
		return Input{}, err
	}
	in := Input{ApplicationID: reg.ApplicationID, Name: reg.Name, PublicURL: publicURL}
	missing := map[string]string{}
	if strings.TrimSpace(in.ApplicationID) == "" {
		missing[FieldApplicationID] = "register the add-in first: enter the Application (client) ID under Manage Office 365"
	}
	if strings.TrimSpace(in.Name) == "" {
		missing[FieldName] = "register the add-in first: enter its display name under Manage Office 365"
	}
	if strings.TrimSpace(in.PublicURL) == "" {
		missing[FieldPublicURL] = "set the server's public URL (SALESBRIDGE_PUBLIC_URL)"
	}
	if len(missing) > 0 {
		return in, precondition(missing)
	}
	return in, nil
}

// AsPrecondition turns a *ValidationError from XML or JSON into the
// precondition_failed error the API answers with; other errors pass.
func AsPrecondition(err error) error {
	if ve, ok := err.(*ValidationError); ok {
		return precondition(ve.Fields)
	}
	return err
}

func precondition(fields map[string]string) error {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return &models.Error{Code: models.CodePreconditionFailed,
		Message: "The manifest cannot be built yet: fill in " + strings.Join(names, ", ") + ".",
		Fields:  fields}
}
