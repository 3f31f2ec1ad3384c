package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
)

// Event reads and writes ask for UTC so start/end never need a Windows zone
// lookup to compare; the original zone stays in originalStartTimeZone.
const preferUTC = `outlook.timezone="UTC"`

// GetEvent reads one event with its CRM id property.
func (c *Client) GetEvent(ctx context.Context, userID, id string) (*Event, error) {
	var ev Event
	q := url.Values{"$expand": {expandCRMID()}}
	if err := c.get(ctx, userID, itemPath("/me/events", id), q, []string{preferUTC}, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// NewTransactionID returns a random id for Event.TransactionID. Sync should
// rather derive a stable one from the CRM record so a retry from another
// process is deduplicated too.
func NewTransactionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// CreateEvent creates an event in the primary calendar. A missing
// TransactionID is filled in, which makes the POST safe to retry after a
// network error: Graph returns the existing event for a repeated id.
// Creating an event with attendees sends them invitations; sync must only
// do that for the organizer's own CRM meetings.
func (c *Client) CreateEvent(ctx context.Context, userID string, ev *Event) (*Event, error) {
	in := *ev
	if in.TransactionID == "" {
		in.TransactionID = NewTransactionID()
	}
	var out Event
	err := c.write(ctx, userID, http.MethodPost, "/me/events", &in, []WriteOption{retrySafe}, []string{preferUTC}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func retrySafe(c *call) { c.retrySafe = true }

// UpdateEvent patches an event. Changing start, end, location or attendees
// of an organizer's meeting sends updates to attendees; keep such fields out
// of the patch unless the user changed them in the CRM.
func (c *Client) UpdateEvent(ctx context.Context, userID, id string, p Patch, opts ...WriteOption) (*Event, error) {
	var out Event
	if err := c.write(ctx, userID, http.MethodPatch, itemPath("/me/events", id), p, opts, []string{preferUTC}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteEvent deletes an event (for an organizer's meeting, attendees get a
// cancellation).
func (c *Client) DeleteEvent(ctx context.Context, userID, id string, opts ...WriteOption) error {
	return c.write(ctx, userID, http.MethodDelete, itemPath("/me/events", id), nil, opts, nil, nil)
}

// EventsDelta runs one calendarView delta round over [opts.Start, opts.End)
// of the primary calendar. calendarView/delta accepts no $select, $expand or
// $filter, so the CRM id of a changed event needs a GetEvent (or a batch of
// them).
func (c *Client) EventsDelta(ctx context.Context, userID string, opts DeltaOptions) (*DeltaResult[Event], error) {
	q := url.Values{}
	if opts.Link == "" {
		if opts.Start.IsZero() || opts.End.IsZero() || !opts.End.After(opts.Start) {
			return nil, &Error{Kind: ErrBadRequest, Method: http.MethodGet, Path: "/me/calendarView/delta",
				Message: "calendarView delta needs a start before its end"}
		}
		q.Set("startDateTime", graphTime(opts.Start))
		q.Set("endDateTime", graphTime(opts.End))
	}
	return runDelta[Event](ctx, c, userID, c.deltaCall("/me/calendarView/delta", q, opts, preferUTC))
}

// FindEventByCRMID returns the event stamped with crmID, or ErrNotFound.
func (c *Client) FindEventByCRMID(ctx context.Context, userID, crmID string) (*Event, error) {
	var pg listPage[Event]
	if err := c.get(ctx, userID, "/me/events", crmIDLookup(crmID), []string{preferUTC}, &pg); err != nil {
		return nil, err
	}
	if len(pg.Value) == 0 {
		return nil, &Error{Kind: ErrNotFound, Method: http.MethodGet, Path: "/me/events", Message: "no event with that CRM id"}
	}
	return &pg.Value[0], nil
}
