package share

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/models"
)

// Kinds of Outlook items.
const (
	ItemMessage = "message"
	ItemEvent   = "event"
)

// Mailbox is what sharing needs from Microsoft Graph (graph.Client).
type Mailbox interface {
	GetMessage(ctx context.Context, userID, id string) (*graph.Message, error)
	GetEvent(ctx context.Context, userID, id string) (*graph.Event, error)
	ListMessagesWithCategory(ctx context.Context, userID, category string, since time.Time) ([]graph.Message, error)
	EventsDelta(ctx context.Context, userID string, opts graph.DeltaOptions) (*graph.DeltaResult[graph.Event], error)
	EnsureMasterCategory(ctx context.Context, userID, name, color string) (*graph.OutlookCategory, error)
	SetMessageCategories(ctx context.Context, userID, id string, categories []string, opts ...graph.WriteOption) (*graph.Message, error)
	UpdateEvent(ctx context.Context, userID, id string, p graph.Patch, opts ...graph.WriteOption) (*graph.Event, error)
}

var _ Mailbox = (*graph.Client)(nil)

// GraphUser is the user id Graph's token source knows a sales user by.
func GraphUser(userID int64) string { return strconv.FormatInt(userID, 10) }

// graphErr turns a Graph failure met while serving a request into a typed
// error the pane can act on.
func graphErr(err error, what string) error {
	var me *models.Error
	if errors.As(err, &me) {
		return err
	}
	switch {
	case errors.Is(err, graph.ErrNotFound):
		return models.Errorf(models.CodeNotFound, "The %s was not found in your mailbox.", what)
	case errors.Is(err, graph.ErrUnauthorized):
		return models.Errorf(models.CodePreconditionFailed, "Connect to Office 365 again: the server cannot read your mailbox.")
	}
	if d, ok := graph.RetryAfter(err); ok {
		return &models.Error{Code: models.CodeRateLimited, Message: "Microsoft Graph is throttling requests; try again shortly.",
			Details: map[string]any{"retryAfter": int64(d.Seconds() + 0.999)}, Cause: err}
	}
	return &models.Error{Code: models.CodeUnavailable, Message: "Microsoft Graph could not be reached; try again shortly.", Cause: err}
}

func noGraph() error {
	return models.Errorf(models.CodePreconditionFailed,
		"The server cannot read items from mailboxes (Office 365 is not registered): send the item's details, not only its id.")
}

func addr(r *graph.Recipient) *Address {
	if r == nil || r.EmailAddress.Address == "" {
		return nil
	}
	return &Address{Email: r.EmailAddress.Address, Name: r.EmailAddress.Name}
}

func addrs(rs []graph.Recipient) []Address {
	out := make([]Address, 0, len(rs))
	for i := range rs {
		if a := addr(&rs[i]); a != nil {
			out = append(out, *a)
		}
	}
	return out
}

// EmailFromMessage fills a share from a Graph message, keeping what the
// caller already chose (associations, subtype, source).
func EmailFromMessage(m *graph.Message, in *EmailInput) {
	in.ItemID = m.ID
	in.InternetMessageID = m.InternetMessageID
	in.ConversationID = m.ConversationID
	in.Subject = m.Subject
	in.From = addr(m.From)
	if in.From == nil {
		in.From = addr(m.Sender)
	}
	in.To = addrs(m.ToRecipients)
	in.Cc = addrs(m.CcRecipients)
	if t := m.SentDateTime; !t.IsZero() {
		in.SentAt = &t
	} else if t := m.ReceivedDateTime; !t.IsZero() {
		in.SentAt = &t
	}
	in.BodyHTML, in.BodyText = "", ""
	if m.Body != nil {
		if strings.EqualFold(m.Body.ContentType, "html") {
			in.BodyHTML = m.Body.Content
		} else {
			in.BodyText = m.Body.Content
		}
	}
}

// AppointmentFromEvent fills a share from a Graph event.
func AppointmentFromEvent(e *graph.Event, in *AppointmentInput) {
	in.ItemID = e.ID
	in.ICalUID = e.ICalUID
	in.Subject = e.Subject
	if t, err := e.Start.Time(); err == nil {
		in.Start = &t
	}
	if t, err := e.End.Time(); err == nil {
		in.End = &t
	}
	in.TimeZone = e.OriginalStartTimeZone
	if in.TimeZone == "" {
		in.TimeZone = e.Start.TimeZone
	}
	in.AllDay = e.IsAllDay
	if e.Location != nil {
		in.Location = e.Location.DisplayName
	}
	in.Organizer = addr(e.Organizer)
	in.Attendees = nil
	for _, a := range e.Attendees {
		if a.EmailAddress.Address != "" {
			in.Attendees = append(in.Attendees, Address{Email: a.EmailAddress.Address, Name: a.EmailAddress.Name})
		}
	}
	in.IsPrivate = e.IsPrivate()
	in.BodyHTML, in.BodyText = "", ""
	if e.Body != nil {
		if strings.EqualFold(e.Body.ContentType, "html") {
			in.BodyHTML = e.Body.Content
		} else {
			in.BodyText = e.Body.Content
		}
	}
}

func (s *Service) fetchMessage(ctx context.Context, userID int64, in *EmailInput) error {
	if s.Graph == nil {
		return noGraph()
	}
	m, err := s.Graph.GetMessage(ctx, GraphUser(userID), in.ItemID)
	if err != nil {
		return graphErr(err, "message")
	}
	EmailFromMessage(m, in)
	return nil
}

func (s *Service) fetchEvent(ctx context.Context, userID int64, in *AppointmentInput) error {
	if s.Graph == nil {
		return noGraph()
	}
	e, err := s.Graph.GetEvent(ctx, GraphUser(userID), in.ItemID)
	if err != nil {
		return graphErr(err, "meeting")
	}
	AppointmentFromEvent(e, in)
	return nil
}
