package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// ListMasterCategories lists the mailbox's master category list.
func (c *Client) ListMasterCategories(ctx context.Context, userID string) ([]OutlookCategory, error) {
	var pg listPage[OutlookCategory]
	if err := c.get(ctx, userID, "/me/outlook/masterCategories", nil, nil, &pg); err != nil {
		return nil, err
	}
	return pg.Value, nil
}

// CreateMasterCategory adds a category with a color preset ("preset0" …).
// An existing name fails with ErrConflict.
func (c *Client) CreateMasterCategory(ctx context.Context, userID, name, color string) (*OutlookCategory, error) {
	var out OutlookCategory
	err := c.write(ctx, userID, http.MethodPost, "/me/outlook/masterCategories",
		OutlookCategory{DisplayName: name, Color: color}, nil, nil, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// EnsureMasterCategory returns the category named name (case-insensitive,
// as Outlook matches them), creating it with color if missing. Without a
// master entry Outlook still shows the category, but uncoloured.
func (c *Client) EnsureMasterCategory(ctx context.Context, userID, name, color string) (*OutlookCategory, error) {
	find := func() (*OutlookCategory, error) {
		cats, err := c.ListMasterCategories(ctx, userID)
		if err != nil {
			return nil, err
		}
		for i := range cats {
			if strings.EqualFold(cats[i].DisplayName, name) {
				return &cats[i], nil
			}
		}
		return nil, nil
	}
	if cat, err := find(); err != nil || cat != nil {
		return cat, err
	}
	cat, err := c.CreateMasterCategory(ctx, userID, name, color)
	if errors.Is(err, ErrConflict) {
		// Another worker created it between our list and create.
		if cat, ferr := find(); ferr == nil && cat != nil {
			return cat, nil
		}
	}
	return cat, err
}
