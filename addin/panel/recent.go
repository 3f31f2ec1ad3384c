package panel

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// RecentItem is one record of the Recent list.
type RecentItem struct {
	Type   string
	ID     int64
	Name   string
	Action string
	At     time.Time
}

// RecentPage is one batch of the Recent list.
type RecentPage struct {
	Items      []RecentItem
	NextCursor string
}

type recentCursor struct {
	At time.Time `json:"at"`
	Y  string    `json:"y"`
	I  int64     `json:"i"`
}

// Recent lists the records the user viewed, created, edited or shared
// within the administrator's recent days, newest first, in batches of the
// administrator's batch size. Records deleted since are left out.
func (s *Service) Recent(ctx context.Context, userID int64, objectType, cursor string) (*RecentPage, error) {
	if objectType != "" && !ValidRecordType(objectType) && objectType != TypeActivity {
		return nil, models.InvalidField("type", "must be one of contact, account, lead, opportunity, activity")
	}
	st, err := settings.Load(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	days, batch := st.RecentDays, st.BatchSize
	if days <= 0 {
		days = settings.Defaults().RecentDays
	}
	if batch <= 0 {
		batch = settings.Defaults().BatchSize
	}
	q := s.Store.DB(ctx).Where("user_id = ? AND at >= ?", userID, s.now().AddDate(0, 0, -days))
	if objectType != "" {
		q = q.Where("object_type = ?", objectType)
	}
	if cursor != "" {
		var c recentCursor
		if err := decodeCursor(cursor, &c); err != nil {
			return nil, err
		}
		q = q.Where("at < ? OR (at = ? AND (object_type > ? OR (object_type = ? AND object_id > ?)))", c.At, c.At, c.Y, c.Y, c.I)
	}
	var rows []models.RecentView
	if err := q.Order("at DESC, object_type, object_id").Limit(batch + 1).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := &RecentPage{Items: []RecentItem{}}
	if len(rows) > batch {
		rows = rows[:batch]
		last := rows[batch-1]
		out.NextCursor = encodeCursor(recentCursor{At: last.At, Y: last.ObjectType, I: last.ObjectID})
	}
	refs := make([]ref, len(rows))
	for i, r := range rows {
		refs[i] = ref{r.ObjectType, r.ObjectID}
	}
	names, err := s.names(ctx, refs)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		name, ok := names[ref{r.ObjectType, r.ObjectID}]
		if !ok {
			continue
		}
		out.Items = append(out.Items, RecentItem{Type: r.ObjectType, ID: r.ObjectID, Name: name, Action: r.Action, At: r.At})
	}
	return out, nil
}

type ref struct {
	Type string
	ID   int64
}

// names returns the display names of live records (one query per type).
func (s *Service) names(ctx context.Context, refs []ref) (map[ref]string, error) {
	byType := map[string][]int64{}
	for _, r := range refs {
		byType[r.Type] = append(byType[r.Type], r.ID)
	}
	out := map[ref]string{}
	for t, ids := range byType {
		expr := "name"
		switch t {
		case TypeContact:
			expr = "trim(first_name || ' ' || last_name)"
		case TypeActivity:
			expr = "subject"
		}
		var rows []struct {
			ID   int64
			Name string
		}
		if err := s.Store.DB(ctx).Table(tableOf[t]).Select("id, "+expr+" AS name").
			Where("id IN ? AND deleted_at IS NULL", ids).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[ref{t, r.ID}] = r.Name
		}
	}
	return out, nil
}

// FavoriteItem is one starred record.
type FavoriteItem struct {
	Type      string
	ID        int64
	Name      string
	CreatedAt time.Time
}

// MaxFavorites bounds a user's favorites.
const MaxFavorites = 500

// Favorites lists the user's starred records, newest first; records
// deleted since are left out.
func (s *Service) Favorites(ctx context.Context, userID int64) ([]FavoriteItem, error) {
	var rows []models.Favorite
	if err := s.Store.DB(ctx).Where("user_id = ?", userID).Order("created_at DESC, object_type, object_id").Limit(MaxFavorites).Find(&rows).Error; err != nil {
		return nil, err
	}
	refs := make([]ref, len(rows))
	for i, r := range rows {
		refs[i] = ref{r.ObjectType, r.ObjectID}
	}
	names, err := s.names(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := []FavoriteItem{}
	for _, r := range rows {
		if name, ok := names[ref{r.ObjectType, r.ObjectID}]; ok {
			out = append(out, FavoriteItem{Type: r.ObjectType, ID: r.ObjectID, Name: name, CreatedAt: r.CreatedAt})
		}
	}
	return out, nil
}

// AddFavorite stars a live record (idempotent).
func (s *Service) AddFavorite(ctx context.Context, userID int64, objectType string, id int64) error {
	if !ValidRecordType(objectType) {
		return models.InvalidField("type", "must be one of contact, account, lead, opportunity")
	}
	names, err := s.names(ctx, []ref{{objectType, id}})
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return models.NotFound(objectType)
	}
	var n int64
	if err := s.Store.DB(ctx).Model(&models.Favorite{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return err
	}
	if n >= MaxFavorites {
		return models.InvalidField("id", "at most 500 favorites are allowed")
	}
	return s.Store.DB(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&models.Favorite{UserID: userID, ObjectType: objectType, ObjectID: id, CreatedAt: s.now()}).Error
}

// RemoveFavorite unstars a record (idempotent).
func (s *Service) RemoveFavorite(ctx context.Context, userID int64, objectType string, id int64) error {
	if !ValidRecordType(objectType) {
		return models.InvalidField("type", "must be one of contact, account, lead, opportunity")
	}
	return s.Store.DB(ctx).Where("user_id = ? AND object_type = ? AND object_id = ?", userID, objectType, id).
		Delete(&models.Favorite{}).Error
}
