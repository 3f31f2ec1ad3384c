package panel

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/salesbridge/salesbridge/models"
)

// ConnectionHalfLife is the recency weighting of connections: an
// interaction counts 1 today, 1/2 after 90 days, 1/4 after 180 days, and
// so on (weight = 2^(-age/90 days)). Future appointments count 1.
const ConnectionHalfLife = 90 * 24 * time.Hour

// maxInteractions bounds the activities read for one contact (the most
// recent ones; older ones weigh almost nothing).
const maxInteractions = 5000

// Connection is a sales user who works with a contact.
type Connection struct {
	User            models.User
	Count           int
	Score           float64
	LastInteraction time.Time
}

// Connections ranks the active sales users by their interactions with a
// contact: activities the contact takes part in (as participant or by
// association) that the user owns or attends, each weighted by recency
// (see ConnectionHalfLife). Ties go to more interactions, then the latest.
func (s *Service) Connections(ctx context.Context, contactID int64, limit int) ([]Connection, error) {
	if _, err := s.GetContact(ctx, contactID); err != nil {
		return nil, err
	}
	db := s.Store.DB(ctx)
	const acts = `SELECT activity_id FROM activity_participants WHERE contact_id = ?
	    UNION SELECT activity_id FROM activity_associations WHERE object_type = 'contact' AND object_id = ?`
	var activities []models.Activity
	if err := db.Select("id, owner_id, start_at, created_at").
		Where("id IN ("+acts+")", contactID, contactID).
		Order("id DESC").Limit(maxInteractions).Find(&activities).Error; err != nil {
		return nil, err
	}
	if len(activities) == 0 {
		return []Connection{}, nil
	}
	ids := make([]int64, len(activities))
	for i, a := range activities {
		ids[i] = a.ID
	}
	var attendees []models.ActivityParticipant
	if err := db.Select("activity_id, user_id").Where("activity_id IN ? AND user_id IS NOT NULL", ids).Find(&attendees).Error; err != nil {
		return nil, err
	}
	usersOf := map[int64]map[int64]bool{}
	for _, a := range activities {
		usersOf[a.ID] = map[int64]bool{a.OwnerID: true}
	}
	for _, p := range attendees {
		usersOf[p.ActivityID][*p.UserID] = true
	}
	now := s.now()
	byUser := map[int64]*Connection{}
	for _, a := range activities {
		at := activityTime(a)
		age := now.Sub(at)
		if age < 0 {
			age = 0
		}
		w := math.Pow(2, -float64(age)/float64(ConnectionHalfLife))
		for uid := range usersOf[a.ID] {
			c := byUser[uid]
			if c == nil {
				c = &Connection{}
				byUser[uid] = c
			}
			c.Count++
			c.Score += w
			if at.After(c.LastInteraction) {
				c.LastInteraction = at
			}
		}
	}
	uids := make([]int64, 0, len(byUser))
	for uid := range byUser {
		uids = append(uids, uid)
	}
	var users []models.User
	if err := db.Where("id IN ? AND active = ?", uids, true).Find(&users).Error; err != nil {
		return nil, err
	}
	out := make([]Connection, 0, len(users))
	for _, u := range users {
		c := byUser[u.ID]
		c.User = u
		c.Score = math.Round(c.Score*1000) / 1000
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if !a.LastInteraction.Equal(b.LastInteraction) {
			return a.LastInteraction.After(b.LastInteraction)
		}
		return a.User.ID < b.User.ID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
