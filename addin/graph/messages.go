package graph

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// messageFields is what sharing an email stores. internetMessageHeaders
// is only returned when selected.
const messageFields = "id,changeKey,createdDateTime,lastModifiedDateTime,receivedDateTime,sentDateTime," +
	"categories,internetMessageId,conversationId,parentFolderId,subject,bodyPreview,body,from,sender," +
	"toRecipients,ccRecipients,bccRecipients,hasAttachments,isDraft,webLink,internetMessageHeaders"

// listFields is the same without body and headers: the instant sync job
// lists many messages and fetches bodies only for the ones it shares.
const listMessageFields = "id,changeKey,lastModifiedDateTime,receivedDateTime,sentDateTime,categories," +
	"internetMessageId,conversationId,subject,from,toRecipients,ccRecipients"

// GetMessage reads a message with body, internet headers and CRM id.
func (c *Client) GetMessage(ctx context.Context, userID, id string) (*Message, error) {
	var m Message
	q := url.Values{"$select": {messageFields}, "$expand": {expandCRMID()}}
	if err := c.get(ctx, userID, itemPath("/me/messages", id), q, nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ListMessagesWithCategory lists messages carrying category that changed
// at or after since (zero: any time), all pages. This is how the instant
// sync job finds mail the user tagged "Shared with Sales" in any client.
func (c *Client) ListMessagesWithCategory(ctx context.Context, userID, category string, since time.Time) ([]Message, error) {
	f := "categories/any(c:c eq " + odataString(category) + ")"
	if !since.IsZero() {
		f = "lastModifiedDateTime ge " + graphTime(since) + " and " + f
	}
	q := url.Values{"$filter": {f}, "$select": {listMessageFields}}
	return listAll[Message](ctx, c, userID, &call{method: http.MethodGet, path: "/me/messages", query: q,
		prefer: []string{c.preferPageSize(0)}, retrySafe: true, weight: 1})
}

// SetMessageCategories replaces a message's categories (pass the full
// list: Graph has no "add one").
func (c *Client) SetMessageCategories(ctx context.Context, userID, id string, categories []string, opts ...WriteOption) (*Message, error) {
	if categories == nil {
		categories = []string{}
	}
	var out Message
	if err := c.write(ctx, userID, http.MethodPatch, itemPath("/me/messages", id), Patch{"categories": categories}, opts, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StampMessageCRMID records the CRM activity id on a shared message.
func (c *Client) StampMessageCRMID(ctx context.Context, userID, id, crmID string) error {
	return c.write(ctx, userID, http.MethodPatch, itemPath("/me/messages", id), Patch{}.WithCRMID(crmID), nil, nil, nil)
}

// FindMessageByCRMID returns the message stamped with crmID, or ErrNotFound.
func (c *Client) FindMessageByCRMID(ctx context.Context, userID, crmID string) (*Message, error) {
	var pg listPage[Message]
	q := crmIDLookup(crmID)
	q.Set("$select", listMessageFields)
	if err := c.get(ctx, userID, "/me/messages", q, nil, &pg); err != nil {
		return nil, err
	}
	if len(pg.Value) == 0 {
		return nil, &Error{Kind: ErrNotFound, Method: http.MethodGet, Path: "/me/messages", Message: "no message with that CRM id"}
	}
	return &pg.Value[0], nil
}
