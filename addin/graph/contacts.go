package graph

import (
	"context"
	"net/http"
	"net/url"
)

// Me returns the signed-in user of the token.
func (c *Client) Me(ctx context.Context, userID string) (*User, error) {
	var u User
	if err := c.get(ctx, userID, "/me", nil, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListContacts reads every contact of the default contacts folder, with the
// CRM id property expanded. Sync uses delta; this is for matching on a
// first sync and for tools.
func (c *Client) ListContacts(ctx context.Context, userID string) ([]Contact, error) {
	q := url.Values{"$expand": {expandCRMID()}}
	return listAll[Contact](ctx, c, userID, &call{method: http.MethodGet, path: "/me/contacts", query: q,
		prefer: []string{c.preferPageSize(0)}, retrySafe: true, weight: 1})
}

// GetContact reads one contact with its CRM id property.
func (c *Client) GetContact(ctx context.Context, userID, id string) (*Contact, error) {
	var ct Contact
	q := url.Values{"$expand": {expandCRMID()}}
	if err := c.get(ctx, userID, itemPath("/me/contacts", id), q, nil, &ct); err != nil {
		return nil, err
	}
	return &ct, nil
}

// CreateContact creates a contact in the default folder. Stamp the CRM id
// first (ct.SetCRMID) so a lost response can be recovered by lookup: a
// create is not retried after a network error, because Graph has no
// idempotency key for contacts.
func (c *Client) CreateContact(ctx context.Context, userID string, ct *Contact) (*Contact, error) {
	var out Contact
	if err := c.write(ctx, userID, http.MethodPost, "/me/contacts", ct, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateContact patches a contact and returns its new state (new changeKey).
func (c *Client) UpdateContact(ctx context.Context, userID, id string, p Patch, opts ...WriteOption) (*Contact, error) {
	var out Contact
	if err := c.write(ctx, userID, http.MethodPatch, itemPath("/me/contacts", id), p, opts, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteContact deletes a contact. A contact already gone after an
// ambiguous first attempt counts as deleted.
func (c *Client) DeleteContact(ctx context.Context, userID, id string, opts ...WriteOption) error {
	return c.write(ctx, userID, http.MethodDelete, itemPath("/me/contacts", id), nil, opts, nil, nil)
}

// ContactsDelta runs one delta round over the default contacts folder (or
// opts.FolderID).
func (c *Client) ContactsDelta(ctx context.Context, userID string, opts DeltaOptions) (*DeltaResult[Contact], error) {
	path := "/me/contacts/delta"
	if opts.FolderID != "" {
		path = itemPath("/me/contactFolders", opts.FolderID) + "/contacts/delta"
	}
	return runDelta[Contact](ctx, c, userID, c.deltaCall(path, selectQuery(opts.Select), opts))
}

// FindContactByCRMID returns the contact stamped with crmID, or ErrNotFound.
// If several carry it (a user copied one), the first is returned.
func (c *Client) FindContactByCRMID(ctx context.Context, userID, crmID string) (*Contact, error) {
	var pg listPage[Contact]
	if err := c.get(ctx, userID, "/me/contacts", crmIDLookup(crmID), nil, &pg); err != nil {
		return nil, err
	}
	if len(pg.Value) == 0 {
		return nil, &Error{Kind: ErrNotFound, Method: http.MethodGet, Path: "/me/contacts", Message: "no contact with that CRM id"}
	}
	return &pg.Value[0], nil
}
