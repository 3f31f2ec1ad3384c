package graph

import (
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph/internal/wintz"
)

// The types below mirror Graph's JSON. Fields are the ones SalesBridge reads
// or writes; unknown properties are ignored on decode. Read-only fields use
// omitempty/omitzero so the same struct can be sent on create without
// tripping Graph's "property is read-only" validation.

// Removed marks a delta entry for an item that left the collection or the
// calendar window ("@removed": {"reason": "deleted" | "changed"}).
type Removed struct {
	Reason string `json:"reason"`
}

// EmailAddress is Graph's emailAddress.
type EmailAddress struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
}

// Recipient wraps an email address (from, toRecipients, organizer, …).
type Recipient struct {
	EmailAddress EmailAddress `json:"emailAddress"`
}

// ItemBody is an HTML or text body.
type ItemBody struct {
	ContentType string `json:"contentType,omitempty"` // "text" or "html"
	Content     string `json:"content"`
}

// PhysicalAddress is a postal address.
type PhysicalAddress struct {
	Street          string `json:"street,omitempty"`
	City            string `json:"city,omitempty"`
	State           string `json:"state,omitempty"`
	CountryOrRegion string `json:"countryOrRegion,omitempty"`
	PostalCode      string `json:"postalCode,omitempty"`
}

// DateTimeTimeZone is Graph's wall-clock time plus zone name. The zone may
// be "UTC", a Windows id ("Pacific Standard Time") or an IANA name.
type DateTimeTimeZone struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

// NewDateTimeTimeZone renders t as a UTC dateTimeTimeZone, which every
// client reads back without zone lookups.
func NewDateTimeTimeZone(t time.Time) DateTimeTimeZone {
	return DateTimeTimeZone{DateTime: t.UTC().Format(wintz.DateTimeLayout), TimeZone: "UTC"}
}

// Time resolves the value to an instant.
func (d DateTimeTimeZone) Time() (time.Time, error) {
	return wintz.Parse(d.DateTime, d.TimeZone)
}

// SingleValueExtendedProperty is a MAPI named property; SalesBridge keeps
// the CRM id in one (see CRMIDPropertyID).
type SingleValueExtendedProperty struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// User is /me.
type User struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	Mail              string   `json:"mail"`
	UserPrincipalName string   `json:"userPrincipalName"`
	JobTitle          string   `json:"jobTitle"`
	MobilePhone       string   `json:"mobilePhone"`
	BusinessPhones    []string `json:"businessPhones"`
	OfficeLocation    string   `json:"officeLocation"`
	PreferredLanguage string   `json:"preferredLanguage"`
}

// Contact is an Outlook contact.
type Contact struct {
	ETag                 string    `json:"@odata.etag,omitempty"`
	Removed              *Removed  `json:"@removed,omitempty"`
	ID                   string    `json:"id,omitempty"`
	ChangeKey            string    `json:"changeKey,omitempty"`
	CreatedDateTime      time.Time `json:"createdDateTime,omitzero"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime,omitzero"`
	ParentFolderID       string    `json:"parentFolderId,omitempty"`
	Categories           []string  `json:"categories,omitempty"`

	DisplayName     string           `json:"displayName,omitempty"`
	GivenName       string           `json:"givenName,omitempty"`
	MiddleName      string           `json:"middleName,omitempty"`
	Surname         string           `json:"surname,omitempty"`
	NickName        string           `json:"nickName,omitempty"`
	Title           string           `json:"title,omitempty"`
	JobTitle        string           `json:"jobTitle,omitempty"`
	CompanyName     string           `json:"companyName,omitempty"`
	Department      string           `json:"department,omitempty"`
	OfficeLocation  string           `json:"officeLocation,omitempty"`
	EmailAddresses  []EmailAddress   `json:"emailAddresses,omitempty"`
	BusinessPhones  []string         `json:"businessPhones,omitempty"`
	HomePhones      []string         `json:"homePhones,omitempty"`
	MobilePhone     string           `json:"mobilePhone,omitempty"`
	BusinessAddress *PhysicalAddress `json:"businessAddress,omitempty"`
	HomeAddress     *PhysicalAddress `json:"homeAddress,omitempty"`
	PersonalNotes   string           `json:"personalNotes,omitempty"`
	// Birthday is a string because Graph's own samples put placeholders in it.
	Birthday string `json:"birthday,omitempty"`

	SingleValueExtendedProperties []SingleValueExtendedProperty `json:"singleValueExtendedProperties,omitempty"`
}

// Location is an event location.
type Location struct {
	DisplayName  string           `json:"displayName,omitempty"`
	LocationType string           `json:"locationType,omitempty"`
	UniqueID     string           `json:"uniqueId,omitempty"`
	UniqueIDType string           `json:"uniqueIdType,omitempty"`
	Address      *PhysicalAddress `json:"address,omitempty"`
}

// ResponseStatus is an attendee's or the owner's answer. Time stays a
// string: Graph sends "0001-01-01T00:00:00Z" for "never answered".
type ResponseStatus struct {
	Response string `json:"response,omitempty"`
	Time     string `json:"time,omitempty"`
}

// Attendee is a meeting attendee.
type Attendee struct {
	Type         string          `json:"type,omitempty"` // required, optional, resource
	Status       *ResponseStatus `json:"status,omitempty"`
	EmailAddress EmailAddress    `json:"emailAddress"`
}

// Event is a calendar event (single instance or occurrence).
type Event struct {
	ODataType            string    `json:"@odata.type,omitempty"`
	ETag                 string    `json:"@odata.etag,omitempty"`
	Removed              *Removed  `json:"@removed,omitempty"`
	ID                   string    `json:"id,omitempty"`
	ChangeKey            string    `json:"changeKey,omitempty"`
	CreatedDateTime      time.Time `json:"createdDateTime,omitzero"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime,omitzero"`
	Categories           []string  `json:"categories,omitempty"`
	// TransactionID makes POST /me/events idempotent: Graph returns the
	// already-created event instead of a twin when a retry repeats it.
	TransactionID string `json:"transactionId,omitempty"`
	ICalUID       string `json:"iCalUId,omitempty"`

	Subject                       string                        `json:"subject,omitempty"`
	Body                          *ItemBody                     `json:"body,omitempty"`
	BodyPreview                   string                        `json:"bodyPreview,omitempty"`
	Start                         DateTimeTimeZone              `json:"start,omitzero"`
	End                           DateTimeTimeZone              `json:"end,omitzero"`
	OriginalStartTimeZone         string                        `json:"originalStartTimeZone,omitempty"`
	OriginalEndTimeZone           string                        `json:"originalEndTimeZone,omitempty"`
	IsAllDay                      bool                          `json:"isAllDay,omitempty"`
	IsCancelled                   bool                          `json:"isCancelled,omitempty"`
	IsOrganizer                   bool                          `json:"isOrganizer,omitempty"`
	Sensitivity                   string                        `json:"sensitivity,omitempty"` // normal, personal, private, confidential
	ShowAs                        string                        `json:"showAs,omitempty"`
	Importance                    string                        `json:"importance,omitempty"`
	Type                          string                        `json:"type,omitempty"` // singleInstance, occurrence, exception, seriesMaster
	SeriesMasterID                string                        `json:"seriesMasterId,omitempty"`
	Location                      *Location                     `json:"location,omitempty"`
	Locations                     []Location                    `json:"locations,omitempty"`
	Attendees                     []Attendee                    `json:"attendees,omitempty"`
	Organizer                     *Recipient                    `json:"organizer,omitempty"`
	ResponseStatus                *ResponseStatus               `json:"responseStatus,omitempty"`
	IsReminderOn                  bool                          `json:"isReminderOn,omitempty"`
	ReminderMinutes               int                           `json:"reminderMinutesBeforeStart,omitempty"`
	WebLink                       string                        `json:"webLink,omitempty"`
	AllowNewTimeProposals         *bool                         `json:"allowNewTimeProposals,omitempty"`
	ResponseRequested             *bool                         `json:"responseRequested,omitempty"`
	HideAttendees                 bool                          `json:"hideAttendees,omitempty"`
	SingleValueExtendedProperties []SingleValueExtendedProperty `json:"singleValueExtendedProperties,omitempty"`
}

// IsPrivate reports whether the event is marked private (or confidential,
// which Outlook shows the same way).
func (e *Event) IsPrivate() bool {
	return e.Sensitivity == "private" || e.Sensitivity == "confidential"
}

// TodoTaskList is a Microsoft To Do list.
type TodoTaskList struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	IsOwner           bool   `json:"isOwner"`
	IsShared          bool   `json:"isShared"`
	WellknownListName string `json:"wellknownListName"`
}

// LinkedResource ties a To Do task to an item in another application.
type LinkedResource struct {
	ID              string `json:"id,omitempty"`
	WebURL          string `json:"webUrl,omitempty"`
	ApplicationName string `json:"applicationName,omitempty"`
	DisplayName     string `json:"displayName,omitempty"`
	ExternalID      string `json:"externalId,omitempty"`
}

// TodoTask is a Microsoft To Do task. It has no changeKey and no
// sensitivity; its @odata.etag is the concurrency token.
type TodoTask struct {
	ETag                 string            `json:"@odata.etag,omitempty"`
	Removed              *Removed          `json:"@removed,omitempty"`
	ID                   string            `json:"id,omitempty"`
	CreatedDateTime      time.Time         `json:"createdDateTime,omitzero"`
	LastModifiedDateTime time.Time         `json:"lastModifiedDateTime,omitzero"`
	Title                string            `json:"title,omitempty"`
	Body                 *ItemBody         `json:"body,omitempty"`
	Importance           string            `json:"importance,omitempty"` // low, normal, high
	Status               string            `json:"status,omitempty"`     // notStarted, inProgress, completed, …
	Categories           []string          `json:"categories,omitempty"`
	IsReminderOn         bool              `json:"isReminderOn,omitempty"`
	DueDateTime          *DateTimeTimeZone `json:"dueDateTime,omitempty"`
	StartDateTime        *DateTimeTimeZone `json:"startDateTime,omitempty"`
	CompletedDateTime    *DateTimeTimeZone `json:"completedDateTime,omitempty"`
	ReminderDateTime     *DateTimeTimeZone `json:"reminderDateTime,omitempty"`
	LinkedResources      []LinkedResource  `json:"linkedResources,omitempty"`
}

// InternetMessageHeader is one MIME header of a received message.
type InternetMessageHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Message is a mail message.
type Message struct {
	ETag                          string                        `json:"@odata.etag,omitempty"`
	Removed                       *Removed                      `json:"@removed,omitempty"`
	ID                            string                        `json:"id,omitempty"`
	ChangeKey                     string                        `json:"changeKey,omitempty"`
	CreatedDateTime               time.Time                     `json:"createdDateTime,omitzero"`
	LastModifiedDateTime          time.Time                     `json:"lastModifiedDateTime,omitzero"`
	ReceivedDateTime              time.Time                     `json:"receivedDateTime,omitzero"`
	SentDateTime                  time.Time                     `json:"sentDateTime,omitzero"`
	Categories                    []string                      `json:"categories,omitempty"`
	InternetMessageID             string                        `json:"internetMessageId,omitempty"`
	ConversationID                string                        `json:"conversationId,omitempty"`
	ParentFolderID                string                        `json:"parentFolderId,omitempty"`
	Subject                       string                        `json:"subject,omitempty"`
	BodyPreview                   string                        `json:"bodyPreview,omitempty"`
	Body                          *ItemBody                     `json:"body,omitempty"`
	From                          *Recipient                    `json:"from,omitempty"`
	Sender                        *Recipient                    `json:"sender,omitempty"`
	ToRecipients                  []Recipient                   `json:"toRecipients,omitempty"`
	CcRecipients                  []Recipient                   `json:"ccRecipients,omitempty"`
	BccRecipients                 []Recipient                   `json:"bccRecipients,omitempty"`
	HasAttachments                bool                          `json:"hasAttachments,omitempty"`
	IsDraft                       bool                          `json:"isDraft,omitempty"`
	WebLink                       string                        `json:"webLink,omitempty"`
	InternetMessageHeaders        []InternetMessageHeader       `json:"internetMessageHeaders,omitempty"`
	SingleValueExtendedProperties []SingleValueExtendedProperty `json:"singleValueExtendedProperties,omitempty"`
}

// Header returns the first internet message header with that name
// (case-insensitive), e.g. "In-Reply-To".
func (m *Message) Header(name string) (string, bool) {
	for _, h := range m.InternetMessageHeaders {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// OutlookCategory is a master category (name + color preset).
type OutlookCategory struct {
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName"`
	Color       string `json:"color,omitempty"` // "none", "preset0" … "preset24"
}

// Patch is a partial update body: only the properties present are changed.
// A map, not a struct, because sync computes field-level diffs and must be
// able to send empty values ("categories": [] clears them), which struct
// omitempty cannot express.
type Patch map[string]any

// item lets generic delta code dedupe entries by id.
type item interface{ itemID() string }

func (c *Contact) itemID() string  { return c.ID }
func (e *Event) itemID() string    { return e.ID }
func (t *TodoTask) itemID() string { return t.ID }
func (m *Message) itemID() string  { return m.ID }
