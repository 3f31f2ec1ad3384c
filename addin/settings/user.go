package settings

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/models"
)

// UserView is a user's conflict policy as the user sees it.
type UserView struct {
	// Effective is the policy the sync applies to this user.
	Effective string
	// Own is the user's choice ("" when none).
	Own string
	// AllowOverride tells whether the user's choice is honoured.
	AllowOverride bool
	Default       string
}

// ForUser returns the conflict policy in force for a user.
func ForUser(ctx context.Context, s *models.Store, userID int64) (UserView, error) {
	st, err := Load(ctx, s)
	if err != nil {
		return UserView{}, err
	}
	var row models.UserSettings
	if err := s.DB(ctx).Where("user_id = ?", userID).Limit(1).Find(&row).Error; err != nil {
		return UserView{}, err
	}
	v := UserView{Effective: st.ConflictPolicy, Own: row.ConflictPolicy, AllowOverride: st.AllowUserOverride, Default: st.ConflictPolicy}
	if st.AllowUserOverride && row.ConflictPolicy != "" {
		v.Effective = row.ConflictPolicy
	}
	return v, nil
}

// SetUserPolicy stores a user's own conflict policy ("" returns to the
// default). It is refused with permission_denied unless the administrator
// allows users to override the default.
func SetUserPolicy(ctx context.Context, s *models.Store, userID int64, policy string, now time.Time) (UserView, error) {
	st, err := Load(ctx, s)
	if err != nil {
		return UserView{}, err
	}
	if !st.AllowUserOverride {
		return UserView{}, models.Errorf(models.CodePermissionDenied, "Your administrator does not allow users to choose their own conflict resolution.")
	}
	if policy != "" && !ValidPolicy(policy) {
		return UserView{}, models.InvalidField("conflictPolicy", "must be one of server_wins, client_wins, user_selected, or empty for the default")
	}
	row := models.UserSettings{UserID: userID, ConflictPolicy: policy, UpdatedAt: now}
	if err := s.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"conflict_policy", "updated_at"}),
	}).Create(&row).Error; err != nil {
		return UserView{}, err
	}
	return ForUser(ctx, s, userID)
}
